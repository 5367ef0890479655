//! Embeds the digest of the crate's sources that `make build` computed, so the module says what
//! it was built from. Cargo judges freshness by mtimes: two checkouts building into one shared
//! target directory can leave the other checkout's artifact looking fresh. A changed digest
//! reruns this script, and its changed output rebuilds the crate, whatever the mtimes say.

fn main() {
    println!("cargo:rerun-if-env-changed=EDGEQUAKE_SOURCE_DIGEST");
    // Only the crate's own inputs: the default (any file of the package) would rebuild the core
    // on every Python or docs edit.
    for path in ["rust", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let digest = std::env::var("EDGEQUAKE_SOURCE_DIGEST").unwrap_or_default();
    println!("cargo:rustc-env=EDGEQUAKE_SOURCE_DIGEST={digest}");
}
