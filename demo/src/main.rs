//! `passerelle-demo`: an internal node and an edge on one machine, with
//! sample data, for a newcomer. Never deployed.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = passerelle_demo::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(passerelle_demo::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
