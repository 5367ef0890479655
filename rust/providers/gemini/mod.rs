//! Google AI Studio (Gemini): OpenAI-format requests translated to `generateContent` /
//! `batchEmbedContents` bodies (`request`), and `GenerateContentResponse`s, whole (`reply`) or
//! the chunks of `streamGenerateContent?alt=sse` (`stream`), translated back into OpenAI-shaped
//! JSON, as LiteLLM 1.110.2 does (`VertexGeminiConfig.map_openai_params`,
//! `_gemini_convert_messages_with_history`,
//! `_transform_google_generate_content_to_openai_model_response`, `_calculate_usage` and the
//! stream `ModelResponseIterator.chunk_parser`). Pure functions over `serde_json::Value`: no
//! Python.

mod reply;
mod request;
mod stream;

pub use reply::{embed_response, response};
pub use request::{embed_body, request_body, Options};
pub use stream::StreamState;
