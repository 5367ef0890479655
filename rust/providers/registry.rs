//! The provider table: one entry per provider the Rust core serves, with its family (OpenAI
//! wire, Anthropic, Gemini), who writes its body, and LiteLLM's resolution of its base URL,
//! API key, auth header and endpoint path.
//!
//! The specification is LiteLLM 1.110.2. Every list below is in the order LiteLLM
//! evaluates it on its native path (`litellm.completion` / `litellm.embedding`), which
//! is not always "arg, `litellm.<attr>`, env, default": for most providers
//! `get_llm_provider` (litellm/litellm_core_utils/get_llm_provider_logic.py) has already
//! filled the base from the provider's env var or default, so a later
//! `litellm.api_base` fallback in litellm/main.py is never reached, and the provider's
//! env key is tried *before* `litellm.api_key`. Each order was checked against a
//! capture server (see docs/providers-research.md).
//!
//! `Source::Arg` is the per-call `api_base` / `api_key` / `api_version`. Empty values
//! count as unset, as LiteLLM's `a or b` chains do.

/// Where a credential or base URL may come from, in LiteLLM's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Arg,
    LitellmAttr(&'static str),
    Env(&'static str),
    Default(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// Azure's `api-key: <key>` header.
    AzureApiKey,
    /// Anthropic's `x-api-key: <key>` header.
    XApiKey,
    /// Google AI Studio's `x-goog-api-key: <key>` header.
    GoogApiKey,
    /// No auth header is ever sent.
    None,
}

/// How LiteLLM joins the chat path to the resolved base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// `{base}{path}` unconditionally: the OpenAI SDK path
    /// (`OpenAIChatCompletion.completion`, litellm/llms/openai/openai.py) and Azure.
    /// A base that already ends in `/chat/completions` gets it twice.
    Always,
    /// The base is used unchanged when it already contains `chat/completions`
    /// (`OpenAIGPTConfig.get_complete_url`, litellm/llms/openai/chat/gpt_transformation.py;
    /// deepseek's `ensure_api_route` requires it at the end), else `{base}{path}`. This is
    /// every provider whose chat goes through `base_llm_http_handler.completion`.
    UnlessPresent,
    /// `{base}{path}` unless the base's path already ends with the path (LiteLLM's
    /// `ensure_api_route`, litellm/litellm_core_utils/url_utils.py): Anthropic's
    /// "/v1/messages".
    EnsureSuffix,
    /// `{base}/models/{model}{path}` (Google AI Studio: `:generateContent`, ...), as
    /// LiteLLM's `_check_custom_proxy` joins a base.
    GeminiModel,
}

/// The wire format a provider speaks: the OpenAI family's bodies are forwarded, the others
/// are translated by their folder (`anthropic/`, `gemini/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    OpenAi,
    Anthropic,
    Gemini,
}

impl Family {
    /// The family's name in `_core.providers()`.
    pub fn name(self) -> &'static str {
        match self {
            Family::OpenAi => "openai",
            Family::Anthropic => "anthropic",
            Family::Gemini => "gemini",
        }
    }
}

/// Who writes an OpenAI-family request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyBy {
    /// The core: `{model, messages|input, **params}` as LiteLLM hands them over (or, for a
    /// translated family, the core's translation).
    Core,
    /// LiteLLM's own `map_openai_params` + `transform_request`, for providers whose config
    /// rewrites the request (parameter renames, message flattening, schema cleaning; see
    /// docs/providers.md); the core sends it as is, so the upstream sees exactly what
    /// LiteLLM's native path sends.
    Litellm,
}

#[derive(Debug)]
pub struct ProviderSpec {
    pub name: &'static str,
    pub family: Family,
    pub body: BodyBy,
    /// Trailing slashes on the resolved base are ignored by LiteLLM on every path.
    pub base_sources: &'static [Source],
    pub key_sources: &'static [Source],
    pub auth: Auth,
    /// LiteLLM raises when no key resolved (else it sends the request without auth).
    pub key_required: bool,
    /// Appended to the base, e.g. "/chat/completions".
    pub chat_path: &'static str,
    /// None if LiteLLM has no embeddings for it via the OpenAI wire.
    pub embeddings_path: Option<&'static str>,
    /// Headers LiteLLM always adds, value source. Entries naming the same header are
    /// listed lowest precedence first: a later entry that resolves replaces an earlier
    /// one (caller-supplied headers replace them all).
    pub extra_headers: &'static [(&'static str, Source)],
    /// `api-version` sources (Azure only; empty elsewhere).
    pub version_sources: &'static [Source],
    /// A suffix LiteLLM ensures on the resolved base (appended unless the base already
    /// ends with it) before any path is joined. Mistral's "/v1".
    pub base_suffix: Option<&'static str>,
    pub chat_join: Join,
    /// The service tiers the provider's LiteLLM `transform_response` lets through on a reply;
    /// any other (or none) becomes the first. Groq names its own (`on_demand`), which
    /// `GroqChatConfig._map_groq_service_tier` maps to OpenAI's `auto` (its stream iterator
    /// leaves chunks as sent).
    pub reply_service_tiers: Option<&'static [&'static str]>,
}

use Source::{Arg, Default, Env, LitellmAttr};

/// `OpenAI-Organization` / `OpenAI-Project` as the OpenAI SDK sends them on the SDK chat
/// path: `organization` is `litellm.organization or OPENAI_ORGANIZATION`
/// (litellm/main.py `_complete_custom_openai`), and when that is unset the SDK client
/// reads `OPENAI_ORG_ID`; `OPENAI_PROJECT_ID` is read by the SDK. On the embeddings path
/// only the SDK's own `OPENAI_ORG_ID` / `OPENAI_PROJECT_ID` apply.
const OPENAI_SDK_HEADERS: &[(&str, Source)] = &[
    ("OpenAI-Organization", Env("OPENAI_ORG_ID")),
    ("OpenAI-Organization", Env("OPENAI_ORGANIZATION")),
    ("OpenAI-Organization", LitellmAttr("organization")),
    ("OpenAI-Project", Env("OPENAI_PROJECT_ID")),
];

const PERPLEXITY_HEADERS: &[(&str, Source)] = &[
    ("X-Pplx-Integration", Default("litellm")),
    ("OpenAI-Organization", Env("OPENAI_ORG_ID")),
    ("OpenAI-Organization", Env("OPENAI_ORGANIZATION")),
    ("OpenAI-Organization", LitellmAttr("organization")),
    ("OpenAI-Project", Env("OPENAI_PROJECT_ID")),
];

/// Key fallback that `_complete_custom_openai` (litellm/main.py) appends after whatever
/// `get_llm_provider` resolved: a provider on the OpenAI SDK path whose own key is unset
/// is sent the OpenAI key.
macro_rules! openai_sdk_key_tail {
    ($($head:expr),* $(,)?) => {
        &[$($head,)* LitellmAttr("api_key"), LitellmAttr("openai_key"), Env("OPENAI_API_KEY")]
    };
}

/// OpenAI, and any OpenAI-compatible server given as `openai/<model>` with
/// `api_base` (LiteLLM has no separate provider for that: the `openai/` prefix wins
/// before `get_llm_provider` looks at `api_base`, so the server gets the OpenAI key
/// chain below, including `OPENAI_API_KEY`, when no `api_key` is passed).
/// Base: `_resolve_openai_api_base` (litellm/responses/bridge_check.py), used by
/// `_complete_custom_openai` (litellm/main.py); `get_openai_credentials`
/// (litellm/llms/openai/common_utils.py) and the `embedding` openai branch
/// (litellm/main.py) resolve the same. Key: `_complete_custom_openai` /
/// `openai_static_api_key` (litellm/llms/openai/workload_identity.py). Chat goes
/// through `openai_chat_completions.completion` (OpenAI SDK), which raises
/// "Missing credentials" (surfaced as `litellm.InternalServerError`) without a key.
/// Chat for models whose cost-map mode is "responses" is bridged to `/responses`
/// by LiteLLM (`responses_api_bridge_check`, litellm/main.py): fall back for those.
pub const OPENAI: ProviderSpec = ProviderSpec {
    name: "openai",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("OPENAI_BASE_URL"),
        Env("OPENAI_API_BASE"),
        Default("https://api.openai.com/v1"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("api_key"),
        LitellmAttr("openai_key"),
        Env("OPENAI_API_KEY"),
    ],
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// Azure OpenAI. Chat: `_complete_azure` (litellm/main.py) resolves base, version and
/// key, then `AzureChatCompletion.completion` (litellm/llms/azure/azure.py) builds an
/// `AzureOpenAI` client via `BaseAzureLLM.get_azure_openai_client` /
/// `initialize_azure_sdk_client` (litellm/llms/azure/common_utils.py), so the URL is
/// `{base}/openai/deployments/{model}/chat/completions?api-version={v}` with an
/// `api-key` header. With no base the SDK reads `AZURE_OPENAI_ENDPOINT`, else raises;
/// with no key it raises "Missing credentials" (`litellm.APIError`) unless an AD token
/// is given. AD tokens (per-call `azure_ad_token`, or the SDK's own
/// `AZURE_OPENAI_AD_TOKEN` env when no key) are sent as `Authorization: Bearer`, and
/// a key plus a token is an error; `AZURE_AD_TOKEN` is read by `_complete_azure` but
/// never reaches the client in this version. `api_version` "v1"/"latest"/"preview"
/// switches to `{base}/openai/v1/chat/completions` with Bearer auth and no query; a
/// base already containing `/openai/deployments` is used as the deployment URL. Fall
/// back to LiteLLM for all three. Embeddings (`embedding` azure branch): key order is
/// arg, `litellm.api_key`, `litellm.azure_key`, `AZURE_API_KEY`, then the SDK's
/// `AZURE_OPENAI_API_KEY`; no base raises before the SDK is asked.
pub const AZURE: ProviderSpec = ProviderSpec {
    name: "azure",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("AZURE_API_BASE"),
        Env("AZURE_OPENAI_ENDPOINT"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("api_key"),
        LitellmAttr("azure_key"),
        Env("AZURE_OPENAI_API_KEY"),
        Env("AZURE_API_KEY"),
    ],
    auth: Auth::AzureApiKey,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[
        Arg,
        LitellmAttr("api_version"),
        Env("AZURE_API_VERSION"),
        LitellmAttr("AZURE_DEFAULT_API_VERSION"),
        Default("2025-02-01-preview"),
    ],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// xAI. `XAIChatConfig.get_openai_compatible_provider_info` and
/// `XAIModelInfo.get_api_key` (litellm/llms/xai/chat/transformation.py,
/// litellm/llms/xai/common_utils.py); chat through `base_llm_http_handler.completion`
/// (`_complete_xai`, litellm/main.py). `litellm.api_base` and `litellm.api_key` are
/// ignored; `litellm.xai_key` beats `XAI_API_KEY`. No key: sent without auth. No
/// embeddings (`LiteLLMUnknownProvider`).
pub const XAI: ProviderSpec = ProviderSpec {
    name: "xai",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[Arg, Env("XAI_API_BASE"), Default("https://api.x.ai/v1")],
    key_sources: &[Arg, LitellmAttr("xai_key"), Env("XAI_API_KEY")],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Mistral. `MistralConfig._get_openai_compatible_provider_info`
/// (litellm/llms/mistral/chat/transformation.py) fills the base and ensures it ends in
/// "/v1" (also for a per-call `api_base`), so the `litellm.api_base` and
/// `MISTRAL_API_BASE` fallbacks in `_complete_mistral` (litellm/main.py) are never
/// reached. Key: that function, then `_complete_mistral` adds `litellm.api_key`. Chat
/// through `base_llm_http_handler.completion`; no key: sent without auth. Embeddings
/// go through the OpenAI SDK (`embedding` mistral branch) with the same base and key
/// chain, and there a missing key raises.
pub const MISTRAL: ProviderSpec = ProviderSpec {
    name: "mistral",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("MISTRAL_AZURE_API_BASE"),
        Default("https://api.mistral.ai/v1"),
    ],
    key_sources: &[
        Arg,
        Env("MISTRAL_AZURE_API_KEY"),
        Env("MISTRAL_API_KEY"),
        LitellmAttr("api_key"),
    ],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: Some("/v1"),
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Groq. `GroqChatConfig._get_openai_compatible_provider_info`
/// (litellm/llms/groq/chat/transformation.py) fills base and key from env first, so
/// in `_complete_groq` (litellm/main.py) `litellm.api_base` is never reached and
/// `GROQ_API_KEY` beats `litellm.api_key`, which beats `litellm.groq_key`. Chat
/// through `base_llm_http_handler.completion`; no key: sent without auth. No
/// embeddings.
pub const GROQ: ProviderSpec = ProviderSpec {
    name: "groq",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("GROQ_API_BASE"),
        Default("https://api.groq.com/openai/v1"),
    ],
    key_sources: &[
        Arg,
        Env("GROQ_API_KEY"),
        LitellmAttr("api_key"),
        LitellmAttr("groq_key"),
    ],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: Some(&["auto", "default", "flex"]),
};

/// DeepSeek. The deepseek branch of `_get_openai_compatible_provider_info`
/// (litellm/litellm_core_utils/get_llm_provider_logic.py); URL from
/// `DeepSeekChatConfig.get_complete_url` (litellm/llms/deepseek/chat/transformation.py,
/// `ensure_api_route`). Note the default is the `/beta` base. No `litellm.*`
/// attribute is consulted; no key: sent without auth. Chat through
/// `base_llm_http_handler.completion` (`_complete_deepseek`). No embeddings.
pub const DEEPSEEK: ProviderSpec = ProviderSpec {
    name: "deepseek",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("DEEPSEEK_API_BASE"),
        Default("https://api.deepseek.com/beta"),
    ],
    key_sources: &[Arg, Env("DEEPSEEK_API_KEY")],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Together AI. The together_ai branch of `_get_openai_compatible_provider_info`
/// (litellm/litellm_core_utils/get_llm_provider_logic.py); chat through
/// `base_llm_http_handler.completion` (`_complete_together_ai`, litellm/main.py) with
/// `TogetherAIChatConfig`. `litellm.togetherai_api_key` is only used by rerank. No key:
/// chat is sent without auth. Embeddings go through the OpenAI SDK (`embedding` openai
/// branch), whose key chain appends `litellm.api_key`, `litellm.openai_key`,
/// `OPENAI_API_KEY` and raises when still unset.
pub const TOGETHER_AI: ProviderSpec = ProviderSpec {
    name: "together_ai",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        Env("TOGETHER_AI_API_BASE"),
        Default("https://api.together.ai/v1"),
    ],
    key_sources: &[
        Arg,
        Env("TOGETHER_API_KEY"),
        Env("TOGETHER_AI_API_KEY"),
        Env("TOGETHERAI_API_KEY"),
        Env("TOGETHER_AI_TOKEN"),
    ],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Fireworks AI. `FireworksAIConfig._get_openai_compatible_provider_info` and
/// `FireworksAIMixin.validate_environment` / `resolve_fireworks_api_key`
/// (litellm/llms/fireworks_ai/chat/transformation.py, common_utils.py). No key raises
/// `ValueError("FIREWORKS_API_KEY is not set")`, surfaced as
/// `litellm.APIConnectionError`. Chat through `base_llm_http_handler.completion`
/// (`_complete_fireworks_ai`). The model is rewritten to
/// `accounts/fireworks/models/<model>` (`resolve_fireworks_resource_name`): the body
/// must carry that, not the bare name. Embeddings go through the OpenAI SDK with key
/// chain arg/env above, `litellm.api_key`, `FIREWORKS_AI_API_KEY`, model not rewritten.
pub const FIREWORKS_AI: ProviderSpec = ProviderSpec {
    name: "fireworks_ai",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("FIREWORKS_API_BASE"),
        Default("https://api.fireworks.ai/inference/v1"),
    ],
    key_sources: &[
        Arg,
        Env("FIREWORKS_API_KEY"),
        Env("FIREWORKS_AI_API_KEY"),
        Env("FIREWORKSAI_API_KEY"),
        Env("FIREWORKS_AI_TOKEN"),
    ],
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// OpenRouter. `get_llm_provider` resolves nothing for it, so `_complete_openrouter`
/// (litellm/main.py; same in the `embedding` openrouter branch and
/// `OpenRouterModelInfo.get_api_key`, litellm/llms/openrouter/common_utils.py) is the
/// whole chain. `HTTP-Referer` = `OR_SITE_URL` or "https://litellm.ai", `X-Title` =
/// `OR_APP_NAME` or "liteLLM", on chat and embeddings; caller headers (or
/// `litellm.headers`) override them. No key: sent without auth. Chat through
/// `base_llm_http_handler.completion` with `OpenrouterConfig`; embeddings always join
/// `/embeddings`.
pub const OPENROUTER: ProviderSpec = ProviderSpec {
    name: "openrouter",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("OPENROUTER_API_BASE"),
        Default("https://openrouter.ai/api/v1"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("api_key"),
        LitellmAttr("openrouter_key"),
        Env("OPENROUTER_API_KEY"),
        Env("OR_API_KEY"),
    ],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[
        ("HTTP-Referer", Default("https://litellm.ai")),
        ("HTTP-Referer", Env("OR_SITE_URL")),
        ("X-Title", Default("liteLLM")),
        ("X-Title", Env("OR_APP_NAME")),
    ],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Perplexity. `PerplexityChatConfig._get_openai_compatible_provider_info`
/// (litellm/llms/perplexity/chat/transformation.py), then `_complete_custom_openai`
/// (litellm/main.py) appends the OpenAI key chain and sends through the OpenAI SDK,
/// adding `X-Pplx-Integration: litellm` (`get_attribution_headers` via
/// `with_attribution_headers`; a caller header of that name wins). No key raises.
/// Chat is `{base}/chat/completions` (no /v1). Embeddings
/// (`PerplexityEmbeddingConfig`, litellm/llms/perplexity/embedding/transformation.py)
/// are `{base}/v1/embeddings`, keyed only by arg/`PERPLEXITYAI_API_KEY`/
/// `PERPLEXITY_API_KEY`, and send `Bearer None` when unset.
pub const PERPLEXITY: ProviderSpec = ProviderSpec {
    name: "perplexity",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("PERPLEXITY_API_BASE"),
        Default("https://api.perplexity.ai"),
    ],
    key_sources: openai_sdk_key_tail!(Arg, Env("PERPLEXITYAI_API_KEY"), Env("PERPLEXITY_API_KEY")),
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/v1/embeddings"),
    extra_headers: PERPLEXITY_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// DeepInfra. `DeepInfraConfig._get_openai_compatible_provider_info`
/// (litellm/llms/deepinfra/chat/transformation.py), then `_complete_custom_openai`
/// (litellm/main.py, OpenAI SDK) appends the OpenAI key chain. No key raises. No
/// embeddings (`LiteLLMUnknownProvider`).
pub const DEEPINFRA: ProviderSpec = ProviderSpec {
    name: "deepinfra",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("DEEPINFRA_API_BASE"),
        Default("https://api.deepinfra.com/v1/openai"),
    ],
    key_sources: openai_sdk_key_tail!(Arg, Env("DEEPINFRA_API_KEY")),
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// NVIDIA NIM. The nvidia_nim branch of `_get_openai_compatible_provider_info`
/// (litellm/litellm_core_utils/get_llm_provider_logic.py), then `_complete_custom_openai`
/// (OpenAI SDK) appends the OpenAI key chain; embeddings use the `embedding` openai
/// branch with the same chains. No key raises.
pub const NVIDIA_NIM: ProviderSpec = ProviderSpec {
    name: "nvidia_nim",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("NVIDIA_NIM_API_BASE"),
        Default("https://integrate.api.nvidia.com/v1"),
    ],
    key_sources: openai_sdk_key_tail!(Arg, Env("NVIDIA_NIM_API_KEY")),
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// LM Studio. `LMStudioChatConfig._get_openai_compatible_provider_info`
/// (litellm/llms/lm_studio/chat/transformation.py) always yields a key ("fake-api-key"
/// when unset, so the OpenAI key chain is never reached) but no base; chat then goes
/// through `_complete_custom_openai` (OpenAI SDK), whose `_resolve_openai_api_base`
/// continues with the OpenAI base chain and finally "https://api.openai.com/v1".
/// That last step is an accident (a fake key sent to OpenAI), so it is left out:
/// requires api_base. Embeddings (`embedding` openai_like branch, OpenAILikeEmbeddingHandler)
/// use arg/`LM_STUDIO_API_BASE`, `litellm.api_base`, `OPENAI_LIKE_API_BASE`.
pub const LM_STUDIO: ProviderSpec = ProviderSpec {
    name: "lm_studio",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        Env("LM_STUDIO_API_BASE"),
        LitellmAttr("api_base"),
        Env("OPENAI_BASE_URL"),
        Env("OPENAI_API_BASE"),
    ],
    key_sources: &[Arg, Env("LM_STUDIO_API_KEY"), Default("fake-api-key")],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// vLLM server. `HostedVLLMChatConfig._get_openai_compatible_provider_info`
/// (litellm/llms/hosted_vllm/chat/transformation.py), then `_complete_hosted_vllm`
/// (litellm/main.py) adds `litellm.api_base` (after the env var) and sends through
/// `base_llm_http_handler.completion`. The key is never unset ("fake-api-key", sent as
/// `Bearer fake-api-key` on chat). With no base `OpenAIGPTConfig.get_complete_url`
/// would fall back to "https://api.openai.com" (an accident, left out): requires
/// api_base. Embeddings (`HostedVLLMEmbeddingConfig`,
/// litellm/llms/hosted_vllm/embedding/transformation.py) omit the header for the fake
/// key and raise without a base.
pub const HOSTED_VLLM: ProviderSpec = ProviderSpec {
    name: "hosted_vllm",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[Arg, Env("HOSTED_VLLM_API_BASE"), LitellmAttr("api_base")],
    key_sources: &[Arg, Env("HOSTED_VLLM_API_KEY"), Default("fake-api-key")],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Ollama's OpenAI-compatible endpoint (`/v1/chat/completions`, `/v1/embeddings`).
/// LiteLLM itself never uses it: `ollama/` posts Ollama-native `/api/generate`
/// (`_complete_ollama`, `OllamaConfig`) and `ollama_chat/` posts `/api/chat`
/// (`_complete_ollama_chat`, `OllamaChatConfig`, litellm/llms/ollama/), with native
/// bodies (`options`, `format`, `keep_alive`, `think`) and native responses, plus
/// `/api/show` model-info calls; embeddings post `/api/embed`. So this entry is an
/// opt-in extension, not a replacement for those routes. It reuses
/// `_complete_ollama_chat`'s resolution: `litellm.api_base` comes *before* the
/// per-call `api_base`, and the base is the server root (the path adds `/v1`). No key:
/// sent without auth.
pub const OLLAMA: ProviderSpec = ProviderSpec {
    name: "ollama",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        LitellmAttr("api_base"),
        Arg,
        Env("OLLAMA_API_BASE"),
        Default("http://localhost:11434"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("ollama_key"),
        Env("OLLAMA_API_KEY"),
        LitellmAttr("api_key"),
    ],
    auth: Auth::Bearer,
    key_required: false,
    chat_path: "/v1/chat/completions",
    embeddings_path: Some("/v1/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::UnlessPresent,
    reply_service_tiers: None,
};

/// Cerebras. The cerebras branch of `_get_openai_compatible_provider_info`
/// (litellm/litellm_core_utils/get_llm_provider_logic.py), then `_complete_custom_openai`
/// (OpenAI SDK) appends the OpenAI key chain. No key raises. No embeddings.
pub const CEREBRAS: ProviderSpec = ProviderSpec {
    name: "cerebras",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("CEREBRAS_API_BASE"),
        Default("https://api.cerebras.ai/v1"),
    ],
    key_sources: openai_sdk_key_tail!(Arg, Env("CEREBRAS_API_KEY")),
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// SambaNova. The sambanova branch of `_get_openai_compatible_provider_info`
/// (litellm/litellm_core_utils/get_llm_provider_logic.py), then `_complete_custom_openai`
/// (OpenAI SDK) appends the OpenAI key chain; no key raises. Embeddings
/// (`SambaNovaEmbeddingConfig`, litellm/llms/sambanova/embedding/transformation.py) use
/// arg/`SAMBANOVA_API_KEY`, `litellm.api_key` and send `Bearer None` when unset.
pub const SAMBANOVA: ProviderSpec = ProviderSpec {
    name: "sambanova",
    family: Family::OpenAi,
    body: BodyBy::Litellm,
    base_sources: &[
        Arg,
        Env("SAMBANOVA_API_BASE"),
        Default("https://api.sambanova.ai/v1"),
    ],
    key_sources: openai_sdk_key_tail!(Arg, Env("SAMBANOVA_API_KEY")),
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// `custom_openai/`: exactly the OpenAI chains (`_complete_custom_openai`,
/// litellm/main.py), minus the Responses bridge. LiteLLM has no embeddings for it.
pub const CUSTOM_OPENAI: ProviderSpec = ProviderSpec {
    name: "custom_openai",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("OPENAI_BASE_URL"),
        Env("OPENAI_API_BASE"),
        Default("https://api.openai.com/v1"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("api_key"),
        LitellmAttr("openai_key"),
        Env("OPENAI_API_KEY"),
    ],
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: None,
    extra_headers: OPENAI_SDK_HEADERS,
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};

/// `openai_like/`: LiteLLM serves only embeddings for it (the `embedding`
/// openai_like branch, litellm/main.py, and `OpenAILikeEmbeddingHandler` /
/// `OpenAILikeBase._validate_environment`, litellm/llms/openai_like/); chat raises
/// `LiteLLMUnknownProvider`, so the chat path here is what `OpenAILikeBase` would
/// build, not a native route. No base or no key raises `OpenAILikeError` ("Missing
/// API Base" / "Missing API Key", `litellm.BadRequestError`). Requires api_base.
pub const OPENAI_LIKE: ProviderSpec = ProviderSpec {
    name: "openai_like",
    family: Family::OpenAi,
    body: BodyBy::Core,
    base_sources: &[Arg, LitellmAttr("api_base"), Env("OPENAI_LIKE_API_BASE")],
    key_sources: &[
        Arg,
        LitellmAttr("api_key"),
        LitellmAttr("openai_like_key"),
        Env("OPENAI_LIKE_API_KEY"),
    ],
    auth: Auth::Bearer,
    key_required: true,
    chat_path: "/chat/completions",
    embeddings_path: Some("/embeddings"),
    extra_headers: &[],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::Always,
    reply_service_tiers: None,
};
/// Anthropic (Messages API, translated by `providers::anthropic`). `_complete_anthropic`
/// (litellm/main.py): key `arg or litellm.anthropic_key or litellm.api_key or
/// ANTHROPIC_API_KEY`; base `arg or litellm.api_base or ANTHROPIC_API_BASE or
/// ANTHROPIC_BASE_URL or https://api.anthropic.com/v1/messages`, then
/// `ensure_api_route(base, "v1/messages")`. `AnthropicModelInfo.validate_environment`
/// sends `x-api-key` and `anthropic-version: 2023-06-01`, and raises
/// `AuthenticationError` ("Missing Anthropic API Key") without a key.
/// `ANTHROPIC_AUTH_TOKEN` (Bearer) and workload identity are not served by the core.
pub const ANTHROPIC: ProviderSpec = ProviderSpec {
    name: "anthropic",
    family: Family::Anthropic,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("ANTHROPIC_API_BASE"),
        Env("ANTHROPIC_BASE_URL"),
        Default("https://api.anthropic.com/v1/messages"),
    ],
    key_sources: &[
        Arg,
        LitellmAttr("anthropic_key"),
        LitellmAttr("api_key"),
        Env("ANTHROPIC_API_KEY"),
    ],
    auth: Auth::XApiKey,
    key_required: true,
    chat_path: "/v1/messages",
    embeddings_path: None,
    extra_headers: &[
        ("anthropic-version", Default("2023-06-01")),
        ("accept", Default("application/json")),
    ],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::EnsureSuffix,
    reply_service_tiers: None,
};

/// Google AI Studio (Gemini, translated by `providers::gemini`). `_complete_gemini`
/// (litellm/main.py): key `arg or GOOGLE_API_KEY or GEMINI_API_KEY or PALM_API_KEY or
/// litellm.api_key`, sent as `x-goog-api-key` (never in the URL); base `arg or
/// litellm.api_base or GEMINI_API_BASE`, else the public endpoint
/// (`get_gemini_url`: `v1beta`, `v1alpha` for Gemini 3 and newer). A base is joined as
/// `{base}/models/{model}:{method}` (`_check_custom_proxy`). No key: LiteLLM raises
/// before sending.
pub const GEMINI: ProviderSpec = ProviderSpec {
    name: "gemini",
    family: Family::Gemini,
    body: BodyBy::Core,
    base_sources: &[
        Arg,
        LitellmAttr("api_base"),
        Env("GEMINI_API_BASE"),
        Default(GEMINI_DEFAULT_BASE),
    ],
    key_sources: &[
        Arg,
        Env("GOOGLE_API_KEY"),
        Env("GEMINI_API_KEY"),
        Env("PALM_API_KEY"),
        LitellmAttr("api_key"),
    ],
    auth: Auth::GoogApiKey,
    key_required: true,
    chat_path: ":generateContent",
    embeddings_path: Some(":batchEmbedContents"),
    extra_headers: &[("accept", Default("*/*"))],
    version_sources: &[],
    base_suffix: None,
    chat_join: Join::GeminiModel,
    reply_service_tiers: None,
};

/// The public Google AI Studio base LiteLLM uses when none is given.
pub const GEMINI_DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com/v1beta";

/// Every provider the core serves, in lookup order.
pub static PROVIDERS: &[ProviderSpec] = &[
    OPENAI,
    AZURE,
    XAI,
    MISTRAL,
    GROQ,
    DEEPSEEK,
    TOGETHER_AI,
    FIREWORKS_AI,
    OPENROUTER,
    PERPLEXITY,
    DEEPINFRA,
    NVIDIA_NIM,
    LM_STUDIO,
    HOSTED_VLLM,
    OLLAMA,
    CEREBRAS,
    SAMBANOVA,
    CUSTOM_OPENAI,
    OPENAI_LIKE,
    ANTHROPIC,
    GEMINI,
];

pub fn lookup(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Providers with no default base: the caller must supply one (arg, attr or env).
    const REQUIRES_API_BASE: &[&str] = &["azure", "lm_studio", "hosted_vllm", "openai_like"];

    /// The production `providers::resolve` with a fake `litellm` module and environment
    /// (never the process's: tests in this binary run in parallel).
    fn resolve_with(
        srcs: &[Source],
        arg: Option<&str>,
        attr: &dyn Fn(&str) -> Option<&'static str>,
        env: &dyn Fn(&str) -> Option<&'static str>,
    ) -> Option<String> {
        crate::providers::resolve(srcs, arg, &|a| attr(a).map(str::to_owned), &|e| {
            env(e).map(str::to_owned)
        })
    }

    fn has_default(srcs: &[Source]) -> bool {
        srcs.iter().any(|s| matches!(s, Default(_)))
    }

    #[test]
    fn lookup_finds_every_entry_and_nothing_else() {
        for p in PROVIDERS {
            assert_eq!(lookup(p.name).map(|q| q.name), Some(p.name));
        }
        for name in [
            "",
            "OpenAI",
            "ollama_chat",
            "together",
            "azure_ai",
            "openai/",
        ] {
            assert!(lookup(name).is_none(), "{name:?} should not resolve");
        }
        for name in [
            "openai",
            "azure",
            "xai",
            "mistral",
            "groq",
            "deepseek",
            "together_ai",
            "fireworks_ai",
            "openrouter",
            "perplexity",
            "deepinfra",
            "nvidia_nim",
            "lm_studio",
            "hosted_vllm",
            "ollama",
            "cerebras",
            "sambanova",
            "custom_openai",
            "openai_like",
        ] {
            assert!(lookup(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, p) in PROVIDERS.iter().enumerate() {
            assert!(
                PROVIDERS[i + 1..].iter().all(|q| q.name != p.name),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn every_entry_has_a_default_base_or_requires_api_base() {
        for p in PROVIDERS {
            let listed = REQUIRES_API_BASE.contains(&p.name);
            assert_ne!(
                has_default(p.base_sources),
                listed,
                "{}: a base default and REQUIRES_API_BASE must be exclusive",
                p.name
            );
        }
        for name in REQUIRES_API_BASE {
            assert!(
                lookup(name).is_some(),
                "{name} in REQUIRES_API_BASE but not a provider"
            );
        }
    }

    #[test]
    fn structural_invariants() {
        for p in PROVIDERS {
            // Only the OpenAI wire forwards bodies LiteLLM may build; a translated family's
            // name is its provider's.
            if p.family != Family::OpenAi {
                assert_eq!(p.body, BodyBy::Core, "{}", p.name);
                assert_eq!(p.family.name(), p.name);
            }
            assert!(
                !p.base_sources.is_empty() && !p.key_sources.is_empty(),
                "{}",
                p.name
            );
            // Paths join a base; Gemini's name a method of `{base}/models/{model}`.
            let sep = if p.chat_join == Join::GeminiModel {
                ':'
            } else {
                '/'
            };
            assert!(p.chat_path.starts_with(sep), "{}", p.name);
            assert!(
                p.embeddings_path.is_none_or(|e| e.starts_with(sep)),
                "{}",
                p.name
            );
            // A required key cannot have a default, and is sent somehow.
            if p.key_required {
                assert!(!has_default(p.key_sources), "{}", p.name);
                assert_ne!(p.auth, Auth::None, "{}", p.name);
            }
            // Defaults end a chain: nothing after them is ever reached.
            for srcs in [p.base_sources, p.key_sources, p.version_sources] {
                if let Some(i) = srcs.iter().position(|s| matches!(s, Default(_))) {
                    assert_eq!(i, srcs.len() - 1, "{}: sources after a default", p.name);
                }
            }
            // Only Azure is versioned and keyed by `api-key`.
            assert_eq!(
                p.auth == Auth::AzureApiKey,
                !p.version_sources.is_empty(),
                "{}",
                p.name
            );
            // Every per-call source comes once.
            for srcs in [p.base_sources, p.key_sources, p.version_sources] {
                assert!(
                    srcs.iter().filter(|s| **s == Arg).count() <= 1,
                    "{}",
                    p.name
                );
            }
            for (h, src) in p.extra_headers {
                assert!(!h.is_empty() && *src != Arg, "{}", p.name);
            }
            if let Some(sfx) = p.base_suffix {
                assert!(sfx.starts_with('/') && !sfx.ends_with('/'), "{}", p.name);
            }
            for s in p.base_sources.iter().chain(p.key_sources) {
                match *s {
                    Env(e) => assert!(
                        e.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                        "{e}"
                    ),
                    LitellmAttr(a) => assert!(
                        a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                        "{a}"
                    ),
                    Default(d) => assert!(!d.is_empty()),
                    Arg => {}
                }
            }
            if let Some(Default(d)) = p.base_sources.last() {
                assert!(
                    d.starts_with("http://") || d.starts_with("https://"),
                    "{}",
                    p.name
                );
                assert!(!d.ends_with('/'), "{}", p.name);
            }
        }
    }

    #[test]
    fn arg_wins_except_where_litellm_puts_its_attr_first() {
        let attr = |_: &str| Some("attr");
        let env = |_: &str| Some("env");
        for p in PROVIDERS {
            let got = resolve_with(p.base_sources, Some("arg"), &attr, &env);
            let want = if p.name == "ollama" { "attr" } else { "arg" };
            assert_eq!(got.as_deref(), Some(want), "{}", p.name);
            assert_eq!(
                resolve_with(p.key_sources, Some("arg"), &attr, &env).as_deref(),
                Some("arg"),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn orders_observed_in_litellm() {
        let no = |_: &str| None;
        // groq: GROQ_API_KEY beats litellm.api_key, which beats litellm.groq_key.
        let groq = lookup("groq").unwrap();
        let attrs = |a: &str| match a {
            "api_key" => Some("generic"),
            "groq_key" => Some("groq-attr"),
            _ => None,
        };
        let env = |e: &str| (e == "GROQ_API_KEY").then_some("env");
        assert_eq!(
            resolve_with(groq.key_sources, None, &attrs, &env).as_deref(),
            Some("env")
        );
        assert_eq!(
            resolve_with(groq.key_sources, None, &attrs, &no).as_deref(),
            Some("generic")
        );
        // groq ignores litellm.api_base: the default wins over it.
        let base_attr = |a: &str| (a == "api_base").then_some("http://attr");
        assert_eq!(
            resolve_with(groq.base_sources, None, &base_attr, &no).as_deref(),
            Some("https://api.groq.com/openai/v1")
        );
        // openai: litellm.api_key beats OPENAI_API_KEY.
        let openai = lookup("openai").unwrap();
        let env = |e: &str| (e == "OPENAI_API_KEY").then_some("env");
        let generic = |a: &str| (a == "api_key").then_some("generic");
        assert_eq!(
            resolve_with(openai.key_sources, None, &generic, &env).as_deref(),
            Some("generic")
        );
        // deepinfra falls back to the OpenAI key.
        let di = lookup("deepinfra").unwrap();
        assert_eq!(
            resolve_with(di.key_sources, None, &no, &env).as_deref(),
            Some("env")
        );
        // xai: litellm.xai_key beats XAI_API_KEY; litellm.api_key is never read.
        let xai = lookup("xai").unwrap();
        let xattr = |a: &str| (a == "xai_key").then_some("xai-attr");
        let xenv = |e: &str| (e == "XAI_API_KEY").then_some("env");
        assert_eq!(
            resolve_with(xai.key_sources, None, &xattr, &xenv).as_deref(),
            Some("xai-attr")
        );
        assert_eq!(resolve_with(xai.key_sources, None, &generic, &no), None);
        // azure: AZURE_OPENAI_API_KEY beats AZURE_API_KEY; version defaults.
        let az = lookup("azure").unwrap();
        let aenv = |e: &str| match e {
            "AZURE_OPENAI_API_KEY" => Some("openai-env"),
            "AZURE_API_KEY" => Some("env"),
            _ => None,
        };
        assert_eq!(
            resolve_with(az.key_sources, None, &no, &aenv).as_deref(),
            Some("openai-env")
        );
        assert_eq!(
            resolve_with(az.version_sources, None, &no, &no).as_deref(),
            Some("2025-02-01-preview")
        );
        // lm_studio / hosted_vllm always have a key.
        for name in ["lm_studio", "hosted_vllm"] {
            let p = lookup(name).unwrap();
            assert_eq!(
                resolve_with(p.key_sources, None, &no, &no).as_deref(),
                Some("fake-api-key")
            );
            assert_eq!(resolve_with(p.base_sources, None, &no, &no), None);
        }
        // mistral: MISTRAL_API_BASE is not consulted.
        let mi = lookup("mistral").unwrap();
        assert!(!mi.base_sources.contains(&Env("MISTRAL_API_BASE")));
        assert_eq!(mi.base_suffix, Some("/v1"));
    }

    #[test]
    fn header_entries_are_lowest_precedence_first() {
        let or = lookup("openrouter").unwrap();
        let last_wins = |name: &str, env: &dyn Fn(&str) -> Option<&'static str>| {
            or.extra_headers
                .iter()
                .filter(|(h, _)| *h == name)
                .filter_map(|(_, s)| resolve_with(std::slice::from_ref(s), None, &|_| None, env))
                .last()
        };
        assert_eq!(
            last_wins("HTTP-Referer", &|_| None).as_deref(),
            Some("https://litellm.ai")
        );
        assert_eq!(
            last_wins("HTTP-Referer", &|e| (e == "OR_SITE_URL")
                .then_some("https://me"))
            .as_deref(),
            Some("https://me")
        );
        assert_eq!(last_wins("X-Title", &|_| None).as_deref(), Some("liteLLM"));
        let px = lookup("perplexity").unwrap();
        assert!(px
            .extra_headers
            .contains(&("X-Pplx-Integration", Default("litellm"))));
    }
}
