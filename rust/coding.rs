//! Content codings the core decodes itself (`gzip`, `deflate`), so that the server's own
//! headers (`content-encoding`, the compressed `content-length`) reach LiteLLM as httpx reports
//! them, and a stream is decoded piece by piece as it arrives.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::write::{GzDecoder, ZlibDecoder};
use reqwest::header::{HeaderMap, CONTENT_ENCODING};

use crate::errors::{CoreError, ErrorKind};

/// What the core asks for, worded as httpx asks for it.
pub const DECODED_CODINGS: &str = "gzip, deflate";

/// A decoder for one response body.
pub enum Decoder {
    Gzip(GzDecoder<Vec<u8>>),
    /// httpx's `deflate` is zlib-wrapped deflate, as servers send it.
    Deflate(ZlibDecoder<Vec<u8>>),
}

impl Decoder {
    /// The decoder a response's `content-encoding` asks for; `None` for identity or a coding
    /// the core did not ask for (passed through as sent).
    pub fn for_headers(headers: &HeaderMap) -> Option<Decoder> {
        let coding = headers
            .get_all(CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .find(|c| !c.is_empty() && c != "identity")?;
        match coding.as_str() {
            "gzip" | "x-gzip" => Some(Decoder::Gzip(GzDecoder::new(Vec::new()))),
            "deflate" => Some(Decoder::Deflate(ZlibDecoder::new(Vec::new()))),
            _ => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Decoder::Gzip(_) => "gzip",
            Decoder::Deflate(_) => "deflate",
        }
    }

    fn bad(&self, e: std::io::Error) -> CoreError {
        CoreError::decode(format!("cannot decode the {} body: {e}", self.name()))
    }

    /// The bytes decoded from one more piece of the body (possibly none yet).
    pub fn feed(&mut self, piece: &[u8]) -> Result<Vec<u8>, CoreError> {
        let done = match self {
            Decoder::Gzip(d) => d.write_all(piece).map(|_| std::mem::take(d.get_mut())),
            Decoder::Deflate(d) => d.write_all(piece).map(|_| std::mem::take(d.get_mut())),
        };
        done.map_err(|e| self.bad(e))
    }

    /// The last decoded bytes at the end of the body; an error if the body was cut short.
    pub fn finish(&mut self) -> Result<Vec<u8>, CoreError> {
        let done = match self {
            Decoder::Gzip(d) => d.try_finish().map(|_| std::mem::take(d.get_mut())),
            Decoder::Deflate(d) => d.try_finish().map(|_| std::mem::take(d.get_mut())),
        };
        done.map_err(|e| self.bad(e))
    }

    /// A whole body, decoded up to `limit` bytes.
    pub fn decode_all(self, body: &[u8], limit: usize) -> Result<Bytes, CoreError> {
        let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
        let read = match &self {
            Decoder::Gzip(_) => flate2::read::GzDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut out),
            Decoder::Deflate(_) => flate2::read::ZlibDecoder::new(body)
                .take(limit as u64 + 1)
                .read_to_end(&mut out),
        };
        read.map_err(|e| self.bad(e))?;
        if out.len() > limit {
            return Err(CoreError::new(
                ErrorKind::TooLarge,
                format!("response body larger than {limit} bytes"),
            ));
        }
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn encoded(coding: &str, data: &[u8]) -> Vec<u8> {
        match coding {
            "gzip" => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            _ => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }

    #[test]
    fn decodes_whole_and_piecewise() {
        let data = "data: {\"é\": 1}\n\n".repeat(50);
        for coding in ["gzip", "deflate"] {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_ENCODING, HeaderValue::from_str(coding).unwrap());
            let body = encoded(coding, data.as_bytes());
            let whole = Decoder::for_headers(&headers)
                .unwrap()
                .decode_all(&body, 1 << 20)
                .unwrap();
            assert_eq!(whole, data.as_bytes(), "{coding}");
            let mut d = Decoder::for_headers(&headers).unwrap();
            let mut out = Vec::new();
            for piece in body.chunks(3) {
                out.extend(d.feed(piece).unwrap());
            }
            out.extend(d.finish().unwrap());
            assert_eq!(out, data.as_bytes(), "{coding}");
            let mut cut = Decoder::for_headers(&headers).unwrap();
            cut.feed(&body[..body.len() / 2]).unwrap();
            assert!(cut.finish().is_err(), "{coding}: a cut body is an error");
        }
    }

    #[test]
    fn identity_and_unknown_pass_through() {
        let mut headers = HeaderMap::new();
        assert!(Decoder::for_headers(&headers).is_none());
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("identity"));
        assert!(Decoder::for_headers(&headers).is_none());
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
        assert!(Decoder::for_headers(&headers).is_none());
    }

    #[test]
    fn too_large_is_an_error() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let body = encoded("gzip", &[b'a'; 4096]);
        let err = Decoder::for_headers(&headers)
            .unwrap()
            .decode_all(&body, 100)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
    }
}
