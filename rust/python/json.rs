//! JSON at the boundary: Python objects to request bytes in one walk, response bytes to
//! Python objects in one pass, with no intermediate tree.

use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::errors::CoreError;

const MAX_DEPTH: usize = 256;

/// Serialize a Python value as JSON, the way `json.dumps` would for the types LiteLLM
/// callers pass (dict, list, tuple, str, int, float, bool, None), plus pydantic models
/// dumped as the OpenAI SDK dumps them (`model_dump(exclude_unset=True, mode="json")`).
pub fn write_value(out: &mut Vec<u8>, v: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err("request body nests too deeply"));
    }
    if v.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(s) = v.cast::<PyString>() {
        write_str(out, &s.to_cow()?);
    } else if let Ok(b) = v.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(i) = v.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(n) => out.extend_from_slice(n.to_string().as_bytes()),
            // Arbitrary-precision ints are written exactly, as json.dumps does.
            Err(_) => out.extend_from_slice(i.str()?.to_cow()?.as_bytes()),
        }
    } else if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err(PyTypeError::new_err(format!(
                "Out of range float values are not JSON compliant: {x}"
            )));
        }
        // Shortest round-trip text; the same number json.dumps writes, maybe spelled differently.
        let _ = serde_json::to_writer(&mut *out, &x);
    } else if let Ok(d) = v.cast::<PyDict>() {
        out.push(b'{');
        let mut first = true;
        for (k, val) in d.iter() {
            if !first {
                out.push(b',');
            }
            first = false;
            write_key(out, &k)?;
            out.push(b':');
            write_value(out, &val, depth + 1)?;
        }
        out.push(b'}');
    } else if let Ok(l) = v.cast::<PyList>() {
        write_seq(out, l.iter(), depth)?;
    } else if let Ok(t) = v.cast::<PyTuple>() {
        write_seq(out, t.iter(), depth)?;
    } else if let Ok(dump) = v.getattr(intern!(v.py(), "model_dump")) {
        let kwargs = PyDict::new(v.py());
        kwargs.set_item("exclude_unset", true)?;
        kwargs.set_item("mode", "json")?;
        let plain = dump.call((), Some(&kwargs))?;
        write_value(out, &plain, depth + 1)?;
    } else {
        let tname = v.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "Object of type {tname} is not JSON serializable"
        )));
    }
    Ok(())
}

fn write_seq<'py>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
) -> PyResult<()> {
    out.push(b'[');
    let mut first = true;
    for item in items {
        if !first {
            out.push(b',');
        }
        first = false;
        write_value(out, &item, depth + 1)?;
    }
    out.push(b']');
    Ok(())
}

/// json.dumps coerces str/int/float/bool/None keys to strings; anything else is an error.
fn write_key(out: &mut Vec<u8>, k: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(s) = k.cast::<PyString>() {
        write_str(out, &s.to_cow()?);
    } else if k.is_none() {
        write_str(out, "null");
    } else if let Ok(b) = k.cast::<PyBool>() {
        write_str(out, if b.is_true() { "true" } else { "false" });
    } else if k.cast::<PyInt>().is_ok() || k.cast::<PyFloat>().is_ok() {
        write_str(out, &k.str()?.to_cow()?);
    } else {
        let tname = k.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "keys must be str, int, float, bool or None, not {tname}"
        )));
    }
    Ok(())
}

pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaper is exact and fast; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// The most of an unparsable text an error carries.
const MAX_ERROR_BODY: usize = 1 << 20;

/// Parse response bytes into Python objects in one pass: serde_json drives a visitor that
/// builds the Python values directly, with no intermediate tree.
pub fn parse<'py>(py: Python<'py>, bytes: &[u8]) -> Result<Bound<'py, PyAny>, CoreError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit_if_supported();
    let value = PySeed { py }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| {
            let preview = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            let mut err =
                CoreError::decode(format!("upstream returned invalid JSON ({e}): {preview:?}"));
            // The text itself, so callers can fail on it with the parser LiteLLM's path uses.
            let n = bytes.len().min(MAX_ERROR_BODY);
            err.body = Some(String::from_utf8_lossy(&bytes[..n]).into_owned());
            err
        })?;
    Ok(value)
}

trait RecursionLimit {
    fn disable_recursion_limit_if_supported(&mut self) {}
}
impl<R> RecursionLimit for serde_json::Deserializer<R> {}

#[derive(Clone, Copy)]
struct PySeed<'py> {
    py: Python<'py>,
}

fn py_err<E: de::Error>(e: PyErr) -> E {
    E::custom(e.to_string())
}

impl<'de, 'py> DeserializeSeed<'de> for PySeed<'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'py> Visitor<'de> for PySeed<'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(n) = v.into_pyobject(self.py);
        Ok(n.into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(n) = v.into_pyobject(self.py);
        Ok(n.into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, v).into_any())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, v).into_any())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.py);
        while let Some(item) = seq.next_element_seed(self)? {
            list.append(item).map_err(py_err)?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key_seed(KeySeed { py: self.py })? {
            let value = map.next_value_seed(self)?;
            dict.set_item(key, value).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// Object keys: interned, since every chunk of a stream repeats the same few.
struct KeySeed<'py> {
    py: Python<'py>,
}

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for KeySeed<'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::intern(self.py, v))
    }
}

#[cfg(test)]
mod tests {
    //! The decoder against Python's own `json.loads` as the oracle: whatever it accepts must
    //! equal what `json.loads` returns for the same bytes; whatever it refuses is a decode
    //! error, never a panic. One difference is documented in the oracle: an integer beyond
    //! 64 bits becomes the nearest float (Python keeps an int; no provider sends those).

    use super::*;
    use crate::errors::ErrorKind;
    use proptest::prelude::*;
    use pyo3::types::PyBytes;

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[a-z\\\"\u{0}-\u{1f}\u{e9}\u{4e16}\u{1f600}]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Decode with ours and with `json.loads`; an accepted document must equal the oracle.
    fn check(bytes: &[u8]) -> Result<bool, TestCaseError> {
        Python::initialize();
        Python::attach(|py| {
            let ours = parse(py, bytes);
            // The one known difference is spelled out in the oracle: an integer beyond 64
            // bits is read as the nearest float (serde_json without arbitrary precision).
            let oracle = py
                .eval(
                    c"lambda b: __import__('json').loads(b, parse_int=lambda s: int(s) \
                        if -2**63 <= int(s) < 2**64 else float(s))",
                    None,
                    None,
                )
                .and_then(|f| f.call1((PyBytes::new(py, bytes),)));
            match ours {
                Ok(v) => {
                    let expected = oracle.map_err(|e| {
                        TestCaseError::fail(format!("accepted what json.loads refuses: {e}"))
                    })?;
                    prop_assert!(v.eq(&expected).unwrap_or(false), "{v} != {expected}");
                    Ok(true)
                }
                Err(e) => {
                    prop_assert_eq!(e.kind, ErrorKind::Decode);
                    Ok(false)
                }
            }
        })
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_document_decodes_like_json_loads(v in json_value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_vec_pretty(&v).unwrap()
            } else {
                serde_json::to_vec(&v).unwrap()
            };
            prop_assert!(check(&text)?, "a valid document was refused");
        }

        #[test]
        fn mutated_documents_never_panic(
            v in json_value(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let mut bytes = serde_json::to_vec(&v).unwrap();
            for (at, byte, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 => bytes.insert(i, byte),
                    1 if i < bytes.len() => bytes[i] = byte,
                    _ if i < bytes.len() => { bytes.remove(i); }
                    _ => bytes.push(byte),
                }
            }
            check(&bytes)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            check(&bytes)?;
        }
    }

    #[test]
    fn deep_nesting_is_a_decode_error_not_a_crash() {
        for open in [b'[', b'{'] {
            let mut doc = vec![open; 100_000];
            if open == b'{' {
                doc = b"{\"a\":".repeat(100_000);
            }
            Python::initialize();
            Python::attach(|py| {
                let err = parse(py, &doc).expect_err("refused");
                assert_eq!(err.kind, ErrorKind::Decode);
            });
        }
    }
}
