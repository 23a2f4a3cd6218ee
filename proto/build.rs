//! Compiles the replication protocol with protox (a .proto compiler in Rust),
//! so building Passerelle never needs a system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["passerelle/replication/v1/replication.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Blob chunks as `bytes::Bytes`: decoded without a copy, and sent
        // straight from the blob store's buffers.
        .bytes(".passerelle.replication.v1.BlobChunk.data")
        .compile_fds(fds)?;
    Ok(())
}
