//! `passerelle-internal`: the authoritative repository of the LAN.

use clap::Parser;

fn main() -> std::process::ExitCode {
    if let Some(e) = passerelle_node::runtime::bound_malloc_arenas() {
        eprintln!(
            "warning: cannot bound glibc's malloc arenas (run with MALLOC_ARENA_MAX=2 to keep memory low): {e}"
        );
    }
    let cli = passerelle_internal::cli::Cli::parse();
    let runtime = match passerelle_node::runtime::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(passerelle_internal::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
