//! The Python boundary, the only place that knows about pyo3 types: Python values converted
//! to Rust values and back (`calls`, `raw`, `stream`, `json`, `convert`, `errors`,
//! `providers`), the caller's rebuild of a retry's request (`rebuild`), and the waits on Rust futures from Python (`bridge`).

pub mod bridge;
pub mod calls;
pub mod convert;
pub mod errors;
pub mod json;
pub mod providers;
pub mod raw;
pub mod rebuild;
pub mod stream;
