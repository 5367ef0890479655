//! The Anthropic Messages API: OpenAI-format requests translated to `/v1/messages` bodies
//! (`request`), and Messages replies (`reply`) / SSE events (`stream`) translated back into
//! OpenAI-shaped JSON, as LiteLLM 1.110.2 translates them (`AnthropicConfig.map_openai_params`
//! and `transform_request`, `anthropic_messages_pt`, `transform_parsed_response`,
//! `calculate_usage` and the stream `ModelResponseIterator.chunk_parser`). Pure functions over
//! `serde_json::Value`: no Python.

mod reply;
mod request;
mod stream;

pub use reply::response;
pub use request::{request_body, Options, JSON_TOOL};
pub use stream::StreamState;
