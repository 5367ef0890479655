//! Incremental Server-Sent Events parser following the WHATWG "event stream
//! interpretation" rules:
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>
//!
//! Built for streaming LLM responses (`data: {...}` events ending with
//! `data: [DONE]`): bytes are fed as they arrive and complete events are pushed
//! into a caller-owned `Vec`. Input split at arbitrary byte boundaries (inside
//! UTF-8 sequences, between CR and LF, inside the BOM) parses exactly like the
//! whole stream fed at once.
//!
//! Where LiteLLM reads a stream with the OpenAI SDK (`StreamEnd::LikeOpenAiSdk`), events are
//! framed as the SDK's decoder frames them instead (`SseParser::for_stream`): it also
//! dispatches blocks without data, and stops at data starting with `[DONE]`.
//!
//! Deliberate deviations from the spec:
//! - invalid UTF-8 is an error rather than being replaced with U+FFFD, so a
//!   corrupted payload is reported instead of silently altered;
//! - line length and event size are bounded so a misbehaving server cannot make
//!   us buffer unbounded memory.

use std::fmt;

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";
/// `SseParser::bom` value once the stream start has been resolved.
const BOM_RESOLVED: u8 = BOM.len() as u8;
/// After an unusually long line, give memory back instead of holding the peak.
const LINE_KEEP_CAPACITY: usize = 64 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// `event:` field; `None` when absent or empty (the spec's default "message").
    pub event: Option<String>,
    /// `data:` lines joined with '\n'.
    pub data: String,
    /// The stream's last event ID at dispatch time. Per spec it persists across
    /// events until another `id:` line changes it; `None` while empty.
    pub id: Option<String>,
    /// Reconnection time in ms from the latest valid `retry:` line since the
    /// previous emitted event. A `retry:` in a block without data carries over
    /// to the next event so it is not lost.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// OpenAI-style end-of-stream sentinel (`data: [DONE]`).
    pub fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }

    /// The end-of-stream sentinel as `end`'s reader sees it: the OpenAI SDK stops at any data
    /// that starts with `[DONE]` (and at nothing else).
    pub fn ends_stream(&self, end: StreamEnd) -> bool {
        match end {
            StreamEnd::LikeOpenAiSdk => self.data.starts_with("[DONE]"),
            StreamEnd::Strict => self.is_done(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A single line (excluding its terminator) exceeded `limit` bytes.
    LineTooLong { limit: usize },
    /// An event's data (as it would be emitted) exceeded `limit` bytes.
    EventTooLarge { limit: usize },
    /// A line was not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong { limit } => {
                write!(f, "SSE line exceeds the {limit}-byte limit")
            }
            SseError::EventTooLarge { limit } => {
                write!(f, "SSE event data exceeds the {limit}-byte limit")
            }
            SseError::InvalidUtf8 => f.write_str("SSE stream contains invalid UTF-8"),
        }
    }
}

impl std::error::Error for SseError {}

/// What an incomplete last event means when the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// A truncated stream: an error.
    Strict,
    /// Nothing: dropped as the OpenAI Python SDK's decoder drops it (the native reader of
    /// every provider LiteLLM serves through the SDK); see `finish_dropping_partial`.
    LikeOpenAiSdk,
}

impl SseParser {
    /// End of stream under `end`: `Err` with what went wrong, else `Ok`.
    pub fn end(&mut self, end: StreamEnd) -> Result<(), String> {
        match end {
            StreamEnd::Strict if self.finish() => {
                Err("stream ended in the middle of an event".to_owned())
            }
            StreamEnd::Strict => Ok(()),
            StreamEnd::LikeOpenAiSdk => self.finish_dropping_partial().map_err(|e| e.to_string()),
        }
    }
}

/// Incremental SSE parser. Feed chunks with [`SseParser::feed`], then call
/// [`SseParser::finish`] at end of stream.
///
/// Errors are sticky: once `feed` fails, later calls return the same error
/// until `finish` resets the parser.
#[derive(Debug, Clone)]
pub struct SseParser {
    max_line: usize,
    /// Bytes of the current line not yet terminated (only used when a line
    /// spans chunks; lines inside one chunk are parsed in place).
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting the next chunk is part
    /// of the same line ending, not an extra blank line.
    pending_cr: bool,
    /// BOM bytes matched at stream start, or `BOM_RESOLVED`.
    bom: u8,
    builder: EventBuilder,
    error: Option<SseError>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;
    pub const DEFAULT_MAX_EVENT: usize = 64 * 1024 * 1024;

    pub fn new() -> Self {
        Self::with_limits(Self::DEFAULT_MAX_LINE, Self::DEFAULT_MAX_EVENT)
    }

    /// `max_line`: longest accepted line in bytes (terminator excluded).
    /// `max_event`: largest accepted event `data` in bytes.
    /// A parser that frames events as `end`'s reader does: under `LikeOpenAiSdk`, a blank
    /// line also dispatches a block without data, as the OpenAI SDK's `SSEDecoder.decode` does
    /// when the block set a non-empty `event:` or a `retry:` Python's `int()` reads, or while
    /// the stream's last event ID is non-empty (it persists across events). The event's data
    /// is then empty, which the SDK fails to parse as JSON.
    pub fn for_stream(end: StreamEnd) -> Self {
        let mut parser = Self::new();
        parser.builder.sdk = end == StreamEnd::LikeOpenAiSdk;
        parser
    }

    pub fn with_limits(max_line: usize, max_event: usize) -> Self {
        SseParser {
            max_line,
            line: Vec::new(),
            pending_cr: false,
            bom: 0,
            builder: EventBuilder {
                max_event,
                ..EventBuilder::default()
            },
            error: None,
        }
    }

    /// Feed bytes as they arrive; complete events are appended to `out`.
    ///
    /// On error, events completed earlier in the same chunk are already in
    /// `out`; the error is then returned by every later call.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        let result = self.feed_inner(chunk, out);
        if let Err(err) = &result {
            self.error = Some(err.clone());
        }
        result
    }

    /// End of stream. Per spec an incomplete event is discarded; returns true
    /// if anything was pending (partial line, or fields of an undispatched
    /// event) so callers can detect truncation. Resets the parser for reuse.
    pub fn finish(&mut self) -> bool {
        let partial = !self.line.is_empty()
            || self.bom != 0 && self.bom != BOM_RESOLVED
            || !self.builder.data.is_empty()
            || !self.builder.event.is_empty();
        let sdk = self.builder.sdk;
        *self = Self::with_limits(self.max_line, self.builder.max_event);
        self.builder.sdk = sdk;
        partial
    }

    /// End of stream as the OpenAI Python SDK's decoder ends it: the unterminated last line
    /// is still decoded (so invalid UTF-8 fails) and an event without its blank line is
    /// dropped silently, so a body that is not SSE at all ends with no events. Resets the
    /// parser for reuse.
    pub fn finish_dropping_partial(&mut self) -> Result<(), SseError> {
        // A BOM cut short is bytes no UTF-8 decoder accepts on their own.
        let bom_cut = self.bom != 0 && self.bom != BOM_RESOLVED;
        let valid = !bom_cut && std::str::from_utf8(&self.line).is_ok();
        self.finish();
        if valid {
            Ok(())
        } else {
            Err(SseError::InvalidUtf8)
        }
    }

    fn feed_inner(&mut self, mut rest: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.bom != BOM_RESOLVED {
            rest = self.skip_bom(rest);
            if self.bom != BOM_RESOLVED {
                return Ok(()); // chunk ended inside a possible BOM
            }
        }
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = find_eol(rest) {
            let (part, tail) = rest.split_at(pos);
            if self.line.is_empty() {
                // Fast path: the whole line is in this chunk, no copy.
                self.check_line_len(part.len())?;
                self.builder.process_line(part, out)?;
            } else {
                self.check_line_len(self.line.len() + part.len())?;
                self.line.extend_from_slice(part);
                self.builder.process_line(&self.line, out)?;
                self.line.clear();
                if self.line.capacity() > LINE_KEEP_CAPACITY {
                    self.line.shrink_to(LINE_KEEP_CAPACITY);
                }
            }
            rest = match (tail[0], tail.get(1)) {
                (b'\r', Some(b'\n')) => &tail[2..],
                (b'\r', None) => {
                    // CRLF may be split across chunks; decide on the next byte.
                    self.pending_cr = true;
                    &tail[1..]
                }
                _ => &tail[1..],
            };
        }
        if !rest.is_empty() {
            // Checked before buffering so memory stays bounded by `max_line`.
            self.check_line_len(self.line.len() + rest.len())?;
            self.line.extend_from_slice(rest);
        }
        Ok(())
    }

    /// Consumes a leading BOM, possibly split across chunks. On mismatch the
    /// bytes matched so far are ordinary line content.
    fn skip_bom<'a>(&mut self, mut rest: &'a [u8]) -> &'a [u8] {
        while let Some((&b, tail)) = rest.split_first() {
            if b != BOM[self.bom as usize] {
                self.line.extend_from_slice(&BOM[..self.bom as usize]);
                self.bom = BOM_RESOLVED;
                return rest;
            }
            rest = tail;
            self.bom += 1;
            if self.bom == BOM_RESOLVED {
                break;
            }
        }
        rest
    }

    #[inline]
    fn check_line_len(&self, len: usize) -> Result<(), SseError> {
        if len > self.max_line {
            Err(SseError::LineTooLong {
                limit: self.max_line,
            })
        } else {
            Ok(())
        }
    }
}

/// Per-event field buffers, separate from the line buffer so a line borrowed
/// from `SseParser::line` can be processed without copying.
#[derive(Debug, Clone, Default)]
struct EventBuilder {
    max_event: usize,
    /// Data lines, each followed by '\n'.
    data: String,
    event: String,
    last_id: String,
    retry: Option<u64>,
    /// Dispatch as the OpenAI SDK does (see `SseParser::for_stream`).
    sdk: bool,
    /// Since the last dispatch, a `retry:` line whose value Python's `int()` reads.
    sdk_retry: bool,
}

impl EventBuilder {
    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        // Validate per complete line: CR/LF never occur inside a multi-byte
        // sequence, so chunk splits cannot cause false errors here.
        let line = std::str::from_utf8(line).map_err(|_| SseError::InvalidUtf8)?;
        let (field, value) = match line.find(':') {
            Some(0) => return Ok(()), // comment
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        match field {
            "data" => {
                // The final '\n' is stripped on dispatch, so this is exactly the
                // emitted size if this line turns out to be the last one.
                if self.data.len() + value.len() > self.max_event {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event,
                    });
                }
                self.data.reserve(value.len() + 1);
                self.data.push_str(value);
                self.data.push('\n');
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "id" if !value.contains('\0') => {
                self.last_id.clear();
                self.last_id.push_str(value);
            }
            "retry" if self.sdk && python_int(value) => {
                self.sdk_retry = true;
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            // Overflowing values are ignored like any other invalid value.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let sdk_dispatch =
            self.sdk && (!self.event.is_empty() || !self.last_id.is_empty() || self.sdk_retry);
        self.sdk_retry = false;
        if self.data.is_empty() && !sdk_dispatch {
            self.event.clear();
            return;
        }
        self.data.pop(); // the '\n' appended after the last data line, if any
        out.push(SseEvent {
            // `take` moves the buffers into the event without copying.
            event: (!self.event.is_empty()).then(|| std::mem::take(&mut self.event)),
            data: std::mem::take(&mut self.data),
            id: (!self.last_id.is_empty()).then(|| self.last_id.clone()),
            retry: self.retry.take(),
        });
    }
}

/// Whether Python's `int()` reads `value` (after the one space the field strips): blanks
/// around, an optional sign, ASCII digits with single underscores between them. (Python also
/// reads other Unicode decimal digits; no SSE server sends those.)
fn python_int(value: &str) -> bool {
    let v = value.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// Position of the first CR or LF. Scans 16-byte blocks with a branch-free
/// test LLVM vectorises, then pinpoints the hit inside the block.
#[inline]
fn find_eol(hay: &[u8]) -> Option<usize> {
    #[inline(always)]
    fn is_eol(b: u8) -> bool {
        b == b'\n' || b == b'\r'
    }
    const BLOCK: usize = 16;
    let mut blocks = hay.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |hit, &b| hit | is_eol(b)) {
            return block.iter().position(|&b| is_eol(b)).map(|i| offset + i);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| is_eol(b))
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            data: data.to_string(),
            ..SseEvent::default()
        }
    }

    /// Feeds `chunks` in order, then `finish`. Returns events (or the first
    /// error) and finish's truncation flag.
    fn parse_chunks<'a>(
        parser: &mut SseParser,
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> (Result<Vec<SseEvent>, SseError>, bool) {
        let mut out = Vec::new();
        for chunk in chunks {
            if let Err(e) = parser.feed(chunk, &mut out) {
                return (Err(e), parser.finish());
            }
        }
        (Ok(out), parser.finish())
    }

    fn parse(input: &[u8]) -> Vec<SseEvent> {
        let (events, partial) = parse_chunks(&mut SseParser::new(), [input]);
        assert!(!partial, "unexpected partial data");
        events.expect("parse failed")
    }

    fn parse_split(
        parser: &mut SseParser,
        input: &[u8],
        cuts: &[usize],
    ) -> (Result<Vec<SseEvent>, SseError>, bool) {
        let mut chunks = Vec::new();
        let mut start = 0;
        for &cut in cuts {
            chunks.push(&input[start..cut]);
            start = cut;
        }
        chunks.push(&input[start..]);
        parse_chunks(parser, chunks)
    }

    /// Straightforward whole-input implementation of the spec, used as an
    /// oracle for the incremental parser. Input must be valid UTF-8.
    fn reference(input: &str) -> (Vec<SseEvent>, bool) {
        let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
        let bytes = input.as_bytes();
        let mut lines = Vec::new();
        let (mut start, mut i) = (0, 0);
        while i < bytes.len() {
            match bytes[i] {
                b'\r' => {
                    lines.push(&input[start..i]);
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    start = i + 1;
                }
                b'\n' => {
                    lines.push(&input[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        let (mut events, mut data, mut event, mut id, mut retry) = (
            Vec::new(),
            String::new(),
            String::new(),
            String::new(),
            None,
        );
        for line in lines {
            if line.is_empty() {
                if data.is_empty() {
                    event.clear();
                    continue;
                }
                data.pop();
                events.push(SseEvent {
                    event: (!event.is_empty()).then(|| event.clone()),
                    data: std::mem::take(&mut data),
                    id: (!id.is_empty()).then(|| id.clone()),
                    retry: retry.take(),
                });
                event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "data" => {
                    data += value;
                    data.push('\n');
                }
                "event" => event = value.to_string(),
                "id" if !value.contains('\0') => id = value.to_string(),
                "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    if let Ok(v) = value.parse() {
                        retry = Some(v);
                    }
                }
                _ => {}
            }
        }
        let partial = start < bytes.len() || !data.is_empty() || !event.is_empty();
        (events, partial)
    }

    /// xorshift64*: deterministic, dependency-free randomness for tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const SAMPLE: &str = "\u{FEFF}: keep-alive comment\r\n\
        event: greeting\r\n\
        data: héllo 世界\r\n\
        data:second line 😀\n\
        id: 42\r\
        \r\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"ü\"}}]}\n\
        \n\
        retry: 1500\r\
        data\r\
        \r\
        data: [DONE]\n\n";

    fn sample_expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: Some("greeting".into()),
                data: "héllo 世界\nsecond line 😀".into(),
                id: Some("42".into()),
                retry: None,
            },
            SseEvent {
                event: None,
                data: "{\"choices\":[{\"delta\":{\"content\":\"ü\"}}]}".into(),
                id: Some("42".into()),
                retry: None,
            },
            SseEvent {
                event: None,
                data: String::new(),
                id: Some("42".into()),
                retry: Some(1500),
            },
            SseEvent {
                event: None,
                data: "[DONE]".into(),
                id: Some("42".into()),
                retry: None,
            },
        ]
    }

    fn parse_sdk(input: &[u8], bytewise: bool) -> Vec<SseEvent> {
        let mut parser = SseParser::for_stream(StreamEnd::LikeOpenAiSdk);
        let mut out = Vec::new();
        if bytewise {
            for b in input.chunks(1) {
                parser.feed(b, &mut out).unwrap();
            }
        } else {
            parser.feed(input, &mut out).unwrap();
        }
        assert!(parser.finish_dropping_partial().is_ok());
        out
    }

    #[test]
    fn sdk_reader_dispatches_dataless_blocks_as_the_openai_sdk() {
        let datas = |input: &[u8]| -> Vec<String> {
            let whole = parse_sdk(input, false);
            assert_eq!(parse_sdk(input, true), whole, "split input parses the same");
            whole.into_iter().map(|e| e.data).collect()
        };
        assert_eq!(datas(b"event: ping\n\ndata: a\n\n"), ["", "a"]);
        assert_eq!(datas(b"event:\n\n"), [] as [&str; 0]); // an empty event name counts as none
        assert_eq!(datas(b"retry: 1000\r\n\r\n"), [""]);
        assert_eq!(datas(b"retry: -1_0 \n\n"), [""]); // Python's int() reads it
        assert_eq!(
            datas(b"retry: 1__0\n\nretry: x\n\nretry:\n\n"),
            [] as [&str; 0]
        );
        // The last event ID persists: every later blank line dispatches, until it is emptied.
        assert_eq!(datas(b"id: 7\n\ndata: a\n\n\n"), ["", "a", ""]);
        assert_eq!(datas(b"id: 7\nid:\n\n\n"), [] as [&str; 0]);
        assert_eq!(datas(b": c\nfoo: bar\nx\n\n"), [] as [&str; 0]);
        // An event without its blank line is dropped at the end, as by the SDK.
        assert_eq!(datas(b"data: a\n\nevent: ping\n"), ["a"]);
        // The WHATWG reader dispatches none of them.
        let whatwg: Vec<String> = parse(b"event: ping\n\nretry: 5\n\nid: 7\n\n\ndata: a\n\n")
            .into_iter()
            .map(|e| e.data)
            .collect();
        assert_eq!(whatwg, ["a"]);
    }

    #[test]
    fn done_sentinel_by_reader() {
        let sdk = StreamEnd::LikeOpenAiSdk;
        assert!(ev("[DONE]").ends_stream(sdk) && ev("[DONE]").ends_stream(StreamEnd::Strict));
        assert!(
            ev("[DONE] tail").ends_stream(sdk) && !ev("[DONE] tail").ends_stream(StreamEnd::Strict)
        );
        assert!(!ev(" [DONE]").ends_stream(sdk) && ev(" [DONE]").ends_stream(StreamEnd::Strict));
    }

    #[test]
    fn single_event() {
        assert_eq!(parse(b"data: hello\n\n"), vec![ev("hello")]);
    }

    #[test]
    fn several_events_in_one_chunk() {
        assert_eq!(
            parse(b"data: a\n\ndata: b\n\ndata: c\n\n"),
            vec![ev("a"), ev("b"), ev("c")]
        );
    }

    #[test]
    fn sample_whole_matches_expected_and_reference() {
        assert_eq!(parse(SAMPLE.as_bytes()), sample_expected());
        assert_eq!(reference(SAMPLE), (sample_expected(), false));
    }

    #[test]
    fn sample_every_single_split_point() {
        let input = SAMPLE.as_bytes();
        for cut in 0..=input.len() {
            let (events, partial) = parse_split(&mut SseParser::new(), input, &[cut]);
            assert_eq!(events.unwrap(), sample_expected(), "cut at {cut}");
            assert!(!partial);
        }
    }

    #[test]
    fn sample_every_pair_of_split_points() {
        let input = SAMPLE.as_bytes();
        let mut parser = SseParser::new(); // reused: finish() resets it
        for a in 0..=input.len() {
            for b in a..=input.len() {
                let (events, partial) = parse_split(&mut parser, input, &[a, b]);
                assert_eq!(events.unwrap(), sample_expected(), "cuts at {a},{b}");
                assert!(!partial);
            }
        }
    }

    #[test]
    fn sample_byte_by_byte() {
        let (events, partial) = parse_chunks(&mut SseParser::new(), SAMPLE.as_bytes().chunks(1));
        assert_eq!(events.unwrap(), sample_expected());
        assert!(!partial);
    }

    #[test]
    fn line_endings_crlf_cr_mixed() {
        let expected = vec![ev("a\nb"), ev("c")];
        assert_eq!(
            parse(b"data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"),
            expected
        );
        assert_eq!(parse(b"data: a\rdata: b\r\rdata: c\r\r"), expected);
        assert_eq!(parse(b"data: a\ndata: b\r\n\rdata: c\r\n\n"), expected);
        // LF CR is two line endings (a blank line in between), not one.
        assert_eq!(parse(b"data: a\n\rdata: b\n\n"), vec![ev("a"), ev("b")]);
    }

    #[test]
    fn cr_at_chunk_end_then_lf_is_one_line_ending() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"data: a\r", &mut out).unwrap();
        p.feed(b"", &mut out).unwrap(); // empty chunks must not lose the pending CR
        p.feed(b"\ndata: b\r", &mut out).unwrap();
        assert!(out.is_empty());
        // LF completes "data: b\r"; the lone CR is a blank line, dispatching
        // at once without waiting for a possible LF.
        p.feed(b"\n\r", &mut out).unwrap();
        assert_eq!(out, vec![ev("a\nb")]);
        // This LF pairs with the CR above: no extra line.
        p.feed(b"\ndata: c\r", &mut out).unwrap();
        p.feed(b"\n\n", &mut out).unwrap();
        assert_eq!(out, vec![ev("a\nb"), ev("c")]);
        assert!(!p.finish());
    }

    #[test]
    fn cr_at_chunk_end_then_other_byte() {
        let (events, partial) = parse_chunks(
            &mut SseParser::new(),
            [&b"data: a\r"[..], b"\r", b"data: b\r", b"\r"],
        );
        assert_eq!(events.unwrap(), vec![ev("a"), ev("b")]);
        assert!(!partial);
    }

    #[test]
    fn comments_are_ignored() {
        assert_eq!(
            parse(b": ping\n:\ndata: a\n: inside\ndata: b\n\n: trailing\n"),
            vec![ev("a\nb")]
        );
        assert_eq!(parse(b": only comments\n\n:\n\n"), vec![]);
    }

    #[test]
    fn multi_line_data_joined_with_newline() {
        assert_eq!(parse(b"data: 1\ndata: 2\ndata: 3\n\n"), vec![ev("1\n2\n3")]);
        // Empty data lines contribute empty lines.
        assert_eq!(parse(b"data:\ndata: x\ndata:\n\n"), vec![ev("\nx\n")]);
    }

    #[test]
    fn value_space_handling() {
        assert_eq!(parse(b"data:nospace\n\n"), vec![ev("nospace")]);
        assert_eq!(parse(b"data:  two\n\n"), vec![ev(" two")]);
        assert_eq!(parse(b"data: a: b:c\n\n"), vec![ev("a: b:c")]);
        assert_eq!(parse(b"data: trailing \n\n"), vec![ev("trailing ")]);
    }

    #[test]
    fn field_without_colon() {
        assert_eq!(parse(b"data\n\n"), vec![ev("")]);
        assert_eq!(parse(b"data\ndata\n\n"), vec![ev("\n")]);
        // Field names are exact and case-sensitive; unknown ones are ignored.
        assert_eq!(parse(b"Data: x\ndata : y\nfoo: z\n\n"), vec![]);
        assert_eq!(parse(b"foo: z\ndata: y\n\n"), vec![ev("y")]);
    }

    #[test]
    fn event_id_retry_fields() {
        let events = parse(
            b"event: delta\nid: 7\nretry: 3000\ndata: x\n\n\
              data: y\n\n\
              id\ndata: z\n\n\
              id: bad\0id\nretry: 12a\nretry: -1\nretry:\nevent:\ndata: w\n\n",
        );
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: Some("delta".into()),
                    data: "x".into(),
                    id: Some("7".into()),
                    retry: Some(3000),
                },
                // Event type resets per event; the ID persists (spec).
                SseEvent {
                    id: Some("7".into()),
                    ..ev("y")
                },
                // A bare `id` clears the last event ID.
                ev("z"),
                // NUL-containing id, non-digit retry and empty event ignored.
                ev("w"),
            ]
        );
    }

    #[test]
    fn retry_overflow_ignored_and_carried_over_from_dataless_block() {
        assert_eq!(
            parse(b"retry: 99999999999999999999999\ndata: a\n\n"),
            vec![ev("a")]
        );
        assert_eq!(
            parse(b"retry: 10\n\ndata: a\n\ndata: b\n\n"),
            vec![
                SseEvent {
                    retry: Some(10),
                    ..ev("a")
                },
                ev("b")
            ]
        );
    }

    #[test]
    fn done_detection() {
        let events = parse(b"data: {\"x\":1}\n\ndata: [DONE]\n\n");
        assert!(!events[0].is_done());
        assert!(events[1].is_done());
        assert!(ev(" [DONE] \n").is_done());
        assert!(!ev("[DONE]x").is_done());
        assert!(!ev("").is_done());
    }

    #[test]
    fn blank_lines_without_data_dispatch_nothing() {
        assert_eq!(parse(b"\n\n\r\n\r\r\n"), vec![]);
        // Empty dispatch also resets the event type.
        assert_eq!(parse(b"event: foo\n\ndata: x\n\n"), vec![ev("x")]);
        assert_eq!(parse(b"data: x\n\n\n\n\n"), vec![ev("x")]);
    }

    #[test]
    fn bom_handling() {
        let input = b"\xEF\xBB\xBFdata: a\n\n";
        assert_eq!(parse(input), vec![ev("a")]);
        for cut in 0..=input.len() {
            let (events, _) = parse_split(&mut SseParser::new(), input, &[cut]);
            assert_eq!(events.unwrap(), vec![ev("a")]);
        }
        // Only one leading BOM is stripped; a second makes an unknown field.
        assert_eq!(
            parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"),
            vec![ev("b")]
        );
        // A BOM elsewhere is content.
        assert_eq!(
            parse("data: \u{FEFF}x\n\n".as_bytes()),
            vec![ev("\u{FEFF}x")]
        );
        // A truncated BOM followed by other bytes is invalid UTF-8, not stripped.
        let (events, _) = parse_chunks(&mut SseParser::new(), [&b"\xEF\xBB"[..], b"data: a\n\n"]);
        assert_eq!(events, Err(SseError::InvalidUtf8));
        // A lone partial BOM at EOF counts as truncation.
        let mut p = SseParser::new();
        p.feed(b"\xEF", &mut Vec::new()).unwrap();
        assert!(p.finish());
    }

    #[test]
    fn eof_with_partial_event() {
        for input in [
            &b"data: a\n\ndata: partial"[..],
            b"data: a\n\ndata: complete line but no blank\n",
            b"data: a\n\nevent: only-type\n",
            b"data: a\n\n: unterminated comment",
            b"data: a\n\nda",
        ] {
            let (events, partial) = parse_chunks(&mut SseParser::new(), [input]);
            assert_eq!(events.unwrap(), vec![ev("a")], "{input:?}");
            assert!(partial, "{input:?}");
        }
        // Clean ends, including a trailing CR with no following byte.
        for input in [
            &b"data: a\n\n"[..],
            b"data: a\r\r",
            b"data: a\n\n: c\n",
            b"",
        ] {
            let (_, partial) = parse_chunks(&mut SseParser::new(), [input]);
            assert!(!partial, "{input:?}");
        }
    }

    #[test]
    fn finish_dropping_partial_drops_what_the_sdk_drops() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        // Not SSE at all, no trailing newline: nothing, and no error.
        p.feed(br#"{"id":"x","object":"chat.completion"}"#, &mut out)
            .unwrap();
        assert_eq!(p.finish_dropping_partial(), Ok(()));
        // A data line without its blank line: dropped.
        p.feed(b"data: {\"a\":1}\n", &mut out).unwrap();
        assert_eq!(p.finish_dropping_partial(), Ok(()));
        assert!(out.is_empty());
        // Complete events before the partial one are kept.
        p.feed(b"data: 1\n\ndata: 2", &mut out).unwrap();
        assert_eq!(p.finish_dropping_partial(), Ok(()));
        assert_eq!(out, vec![ev("1")]);
        // The unterminated line is still decoded: invalid UTF-8 fails, as in Python.
        p.feed(b"abc\xff", &mut out).unwrap();
        assert_eq!(p.finish_dropping_partial(), Err(SseError::InvalidUtf8));
        p.feed(b"\xEF\xBB", &mut out).unwrap();
        assert_eq!(p.finish_dropping_partial(), Err(SseError::InvalidUtf8));
        // Reset after each call.
        assert!(!p.finish());
    }

    #[test]
    fn finish_resets_parser() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.feed(b"id: 1\ndata: lost", &mut out).unwrap();
        assert!(p.finish());
        assert!(!p.finish());
        p.feed(b"data: fresh\n\n", &mut out).unwrap();
        assert_eq!(out, vec![ev("fresh")]);
    }

    #[test]
    fn line_too_long() {
        let err = Err(SseError::LineTooLong { limit: 10 });
        // Exactly at the limit is fine (terminator not counted).
        let (events, _) = parse_chunks(
            &mut SseParser::with_limits(10, 100),
            [&b"data: 1234\r\n\r\n"[..]],
        );
        assert_eq!(events.unwrap(), vec![ev("1234")]);
        let (events, _) = parse_chunks(
            &mut SseParser::with_limits(10, 100),
            [&b"data: 12345\n\n"[..]],
        );
        assert_eq!(events, err);
        // Same error across chunk boundaries, and comments count too.
        let (events, _) = parse_chunks(
            &mut SseParser::with_limits(10, 100),
            [&b"data: 123"[..], b"45\n\n"],
        );
        assert_eq!(events, err);
        let (events, _) = parse_chunks(
            &mut SseParser::with_limits(10, 100),
            [&b": 123456789\n"[..]],
        );
        assert_eq!(events, err);

        // Memory stays bounded: the error fires while buffering a line that
        // never ends, and the buffer never exceeds the limit.
        let mut p = SseParser::with_limits(1024, 1 << 20);
        let mut out = Vec::new();
        let mut fed = 0;
        let result = loop {
            match p.feed(&[b'x'; 100], &mut out) {
                Ok(()) => fed += 100,
                Err(e) => break e,
            }
            assert!(p.line.len() <= 1024);
            assert!(fed < 10_000, "limit never enforced");
        };
        assert_eq!(result, SseError::LineTooLong { limit: 1024 });
        // Sticky until finish.
        assert_eq!(
            p.feed(b"\n", &mut out),
            Err(SseError::LineTooLong { limit: 1024 })
        );
        assert!(p.finish());
        assert_eq!(p.feed(b"data: ok\n\n", &mut out), Ok(()));
        assert_eq!(out, vec![ev("ok")]);
    }

    #[test]
    fn event_too_large() {
        // Emitted data "1234\n12345" is 10 bytes: exactly at the limit.
        let mut p = SseParser::with_limits(100, 10);
        let (events, _) = parse_chunks(&mut p, [&b"data: 1234\ndata: 12345\n\n"[..]]);
        assert_eq!(events.unwrap(), vec![ev("1234\n12345")]);
        let (events, _) = parse_chunks(&mut p, [&b"data: 1234\ndata: 123456\n\n"[..]]);
        assert_eq!(events, Err(SseError::EventTooLarge { limit: 10 }));
        // Many small lines add up; earlier events are still delivered.
        let mut out = Vec::new();
        let mut p = SseParser::with_limits(100, 10);
        let r = p.feed(b"data: ok\n\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\ndata:\n\n", &mut out);
        assert_eq!(r, Err(SseError::EventTooLarge { limit: 10 }));
        assert_eq!(out, vec![ev("ok")]);
        // The limit resets per event.
        let input = b"data: 1234567890\n\n".repeat(5);
        let (events, _) = parse_chunks(&mut SseParser::with_limits(100, 10), [&input[..]]);
        assert_eq!(events.unwrap().len(), 5);
    }

    #[test]
    fn invalid_utf8() {
        for input in [
            &b"data: \xFF\n\n"[..],
            b"data: \xC3\n\n",         // truncated 2-byte sequence
            b"data: \xE4\xB8\r\n\r\n", // truncated 3-byte sequence before CRLF
            b"data: \xED\xA0\x80\n\n", // UTF-16 surrogate
            b"dat\xFFa: x\n\n",
            b": comment \xFF\n",
        ] {
            let (events, _) = parse_chunks(&mut SseParser::new(), [input]);
            assert_eq!(events, Err(SseError::InvalidUtf8), "{input:?}");
        }
        // Valid multi-byte characters split across chunks are fine.
        let input = "data: 世界😀\n\n".as_bytes();
        for cut in 0..=input.len() {
            let (events, _) = parse_split(&mut SseParser::new(), input, &[cut]);
            assert_eq!(events.unwrap(), vec![ev("世界😀")]);
        }
    }

    #[test]
    fn error_display() {
        assert_eq!(
            SseError::LineTooLong { limit: 5 }.to_string(),
            "SSE line exceeds the 5-byte limit"
        );
        assert_eq!(
            SseError::EventTooLarge { limit: 7 }.to_string(),
            "SSE event data exceeds the 7-byte limit"
        );
        assert_eq!(
            SseError::InvalidUtf8.to_string(),
            "SSE stream contains invalid UTF-8"
        );
        let _: &dyn std::error::Error = &SseError::InvalidUtf8;
    }

    #[test]
    fn long_lines_cross_scan_blocks() {
        // Exercise find_eol's block path: terminators at every offset within
        // and across 16-byte blocks.
        for len in 0..70 {
            let value = "v".repeat(len);
            let input = format!("data:{value}\r\ndata:{value}\r\r");
            let expected = vec![ev(&format!("{value}\n{value}"))];
            assert_eq!(parse(input.as_bytes()), expected, "len {len}");
        }
        assert_eq!(find_eol(b""), None);
        assert_eq!(find_eol(&[b'a'; 100]), None);
        let mut hay = [b'a'; 100];
        hay[37] = b'\r';
        hay[80] = b'\n';
        assert_eq!(find_eol(&hay), Some(37));
    }

    #[test]
    fn property_random_streams_and_splits_match_reference() {
        // Mostly well-formed field lines with random values, plus some raw
        // token soup to hit odd corners (colons, NULs, BOMs mid-stream).
        const FIELDS: &[&str] = &[
            "data: ",
            "data: ",
            "data: ",
            "data:",
            "data",
            "event: ",
            "event:",
            "id: ",
            "id",
            "retry: ",
            "retry:",
            ": ",
            ":",
            "unknown: ",
            "",
        ];
        const VALUES: &[&str] = &[
            " ",
            "x",
            ":",
            "héllo",
            "世界",
            "😀",
            "{\"a\":[1,2]}",
            "[DONE]",
            "1500",
            "12a",
            "\0",
            "\u{FEFF}",
        ];
        const ENDINGS: &[&str] = &["\n", "\r", "\r\n"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut parser = SseParser::new();
        let (mut total_events, mut partial_rounds) = (0, 0);
        for round in 0..300 {
            let mut input = String::new();
            if rng.below(4) == 0 {
                input.push('\u{FEFF}');
            }
            for _ in 0..rng.below(30) {
                if rng.below(3) == 0 {
                    input.push_str(ENDINGS[rng.below(ENDINGS.len())]); // blank line
                    continue;
                }
                input.push_str(FIELDS[rng.below(FIELDS.len())]);
                for _ in 0..rng.below(4) {
                    input.push_str(VALUES[rng.below(VALUES.len())]);
                }
                input.push_str(ENDINGS[rng.below(ENDINGS.len())]);
            }
            if rng.below(4) == 0 {
                input.push_str("data: trunc"); // sometimes end mid-line
            }
            let expected = reference(&input);
            total_events += expected.0.len();
            partial_rounds += usize::from(expected.1);
            let bytes = input.as_bytes();

            for _ in 0..3 {
                let mut cuts: Vec<usize> = (0..rng.below(12))
                    .map(|_| rng.below(bytes.len() + 1))
                    .collect();
                cuts.sort_unstable();
                let (events, partial) = parse_split(&mut parser, bytes, &cuts);
                assert_eq!(
                    (events.unwrap(), partial),
                    expected,
                    "round {round}, input {input:?}, cuts {cuts:?}"
                );
            }
            let (events, partial) = parse_chunks(&mut parser, bytes.chunks(1));
            assert_eq!(
                (events.unwrap(), partial),
                expected,
                "round {round} byte-by-byte"
            );
        }
        // Guard against the generator degenerating into trivial inputs.
        assert!(total_events > 300, "only {total_events} events generated");
        assert!(
            (30..270).contains(&partial_rounds),
            "{partial_rounds} partial rounds"
        );
    }

    #[test]
    fn property_random_splits_preserve_errors() {
        // Split invariance also holds for error outcomes (with limits).
        let mut rng = Rng(42);
        let mut input = b"data: ok\r\n\r\n".to_vec();
        input.extend_from_slice("data: héllo\n\n".as_bytes());
        let cases: [(&[u8], SseError); 3] = [
            (b"data: \xE4\xB8\n\n", SseError::InvalidUtf8),
            (
                b"data: 0123456789012345678901234567890123456789\n\n",
                SseError::LineTooLong { limit: 32 },
            ),
            (
                b"data: 0123456789\ndata: 0123456789\n\n",
                SseError::EventTooLarge { limit: 20 },
            ),
        ];
        for (bad, err) in cases {
            let mut full = input.clone();
            full.extend_from_slice(bad);
            full.extend_from_slice(b"data: after\n\n");
            for _ in 0..100 {
                let mut cuts: Vec<usize> = (0..rng.below(8))
                    .map(|_| rng.below(full.len() + 1))
                    .collect();
                cuts.sort_unstable();
                let mut p = SseParser::with_limits(32, 20);
                let mut chunks = Vec::new();
                let mut start = 0;
                for &c in &cuts {
                    chunks.push(&full[start..c]);
                    start = c;
                }
                chunks.push(&full[start..]);
                let mut out = Vec::new();
                let first_err = chunks.iter().find_map(|c| p.feed(c, &mut out).err());
                assert_eq!(first_err, Some(err.clone()), "cuts {cuts:?}");
                assert_eq!(out, vec![ev("ok"), ev("héllo")], "cuts {cuts:?}");
            }
        }
    }

    // ---- proptest: generated streams, generated chunkings ----------------------------

    use proptest::prelude::*;

    /// Pieces that SSE streams (and broken ones) are made of.
    fn token() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop_oneof![
                Just("data: "), Just("data:"), Just("data"), Just("event: "), Just("id: "),
                Just("retry: "), Just(": "), Just(":"), Just("x: "), Just("\n"), Just("\r"),
                Just("\r\n"), Just("[DONE]"), Just("{\"a\":1}"), Just("\u{FEFF}"), Just("é"),
                Just("😀"), Just("123"), Just("\0"),
            ].prop_map(|t| t.as_bytes().to_vec()),
            1 => prop::collection::vec(any::<u8>(), 0..8),
        ]
    }

    fn stream(max_tokens: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(token(), 0..max_tokens).prop_map(|t| t.concat())
    }

    fn valid_stream() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("data: "),
                Just("data:"),
                Just("data"),
                Just("event: "),
                Just("id: "),
                Just("retry: "),
                Just(": "),
                Just("x: "),
                Just("\n"),
                Just("\r"),
                Just("\r\n"),
                Just("[DONE]"),
                Just("é"),
                Just("😀"),
                Just("123"),
                Just("\u{FEFF}"),
            ],
            0..80,
        )
        .prop_map(|t| t.concat())
    }

    /// Events, the first error, and the truncation flag of one parse.
    type Outcome = (Vec<SseEvent>, Option<SseError>, bool);

    fn run(p: &mut SseParser, chunks: &[&[u8]]) -> Outcome {
        let mut out = Vec::new();
        let mut err = None;
        for c in chunks {
            if let Err(e) = p.feed(c, &mut out) {
                err = Some(e);
                break;
            }
            // Memory stays within the documented limits whatever arrives.
            assert!(
                p.line.len() <= p.max_line.max(3),
                "line buffer over the limit"
            );
            assert!(
                p.builder.data.len() <= p.builder.max_event + 1,
                "event over the limit"
            );
        }
        let partial = p.finish();
        (out, err, partial)
    }

    fn chunked<'a>(bytes: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for c in at {
            chunks.push(&bytes[start..c]);
            start = c;
        }
        chunks.push(&bytes[start..]);
        chunks
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any bytes, any chunking: the same events and the same error as one whole feed,
        /// with buffers bounded by the limits (small here, so they are hit).
        #[test]
        fn proptest_any_bytes_split_invariant_and_bounded(
            bytes in stream(60),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let whole = run(&mut SseParser::with_limits(24, 48), &[&bytes]);
            let split = run(&mut SseParser::with_limits(24, 48), &chunked(&bytes, &cuts));
            prop_assert_eq!(&split.0, &whole.0);
            prop_assert_eq!(&split.1, &whole.1);
            if whole.1.is_none() {
                prop_assert_eq!(split.2, whole.2);
            }
        }

        /// Valid UTF-8 streams: exactly what the whole-input reference parser yields.
        #[test]
        fn proptest_valid_streams_match_reference(
            text in valid_stream(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let expected = reference(&text);
            let got = run(&mut SseParser::new(), &chunked(text.as_bytes(), &cuts));
            prop_assert_eq!(got.1, None);
            prop_assert_eq!((got.0, got.2), expected);
        }
    }
}
