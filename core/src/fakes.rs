mod mem_blobs;
pub use mem_blobs::MemBlobStore;
mod fast_passwords;
pub use fast_passwords::FastPasswords;
mod mem_repo;
pub use mem_repo::MemRepository;
