//! The emulated internet's model registry (`registry.ollama.ai/library/...`): the base models a
//! pull (or a create's `from`) can fetch. Sizes, parameter counts, quantisations and the GGUF
//! metadata follow the models' public cards (ollama.com/library, Hugging Face configs:
//! layers, context, embedding width, attention heads); the model blobs themselves hold only
//! that metadata as JSON, so a sandbox stays small, while manifests carry the real sizes.
//! Templates are written for the emulator in each model's real chat format (special tokens,
//! `.Tools` where the library model supports tools), params layers carry the library's stop
//! tokens, licence layers only the licences' first lines. llama3.1, gemma2 and phi3 carry
//! their real GGUF `tokenizer.chat_template` and llama3.1 its real tool round-trip
//! TEMPLATE (sources at each constant). Not yet: llama3.2 (its blobs and template text are
//! pinned by tests outside the emulator; it should get the same as llama3.1), mistral
//! (v0.3's chat template has tools) and qwen2.5 (tools, `<tool_response>`): no verified
//! text of their chat templates was at hand.
//!
//! Digests are real SHA-256 of the stored blobs, so `verifying sha256 digest` holds.

use super::gofmt::J;
use super::names::{DEFAULT_HOST, DEFAULT_NAMESPACE, Name};
use super::sha256_hex;

pub const MEDIA_MODEL: &str = "application/vnd.ollama.image.model";
pub const MEDIA_TEMPLATE: &str = "application/vnd.ollama.image.template";
pub const MEDIA_SYSTEM: &str = "application/vnd.ollama.image.system";
pub const MEDIA_PARAMS: &str = "application/vnd.ollama.image.params";
pub const MEDIA_LICENSE: &str = "application/vnd.ollama.image.license";
pub const MEDIA_MESSAGES: &str = "application/vnd.ollama.image.messages";
pub const MEDIA_ADAPTER: &str = "application/vnd.ollama.image.adapter";
pub const MEDIA_PROJECTOR: &str = "application/vnd.ollama.image.projector";
pub const MEDIA_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const MEDIA_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// `fs/ggml` file types (`FileType.String()` and the `general.file_type` number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    F32,
    F16,
    Q4_0,
    Q8_0,
    Q4KS,
    Q4KM,
    BF16,
}

impl FileType {
    pub fn name(self) -> &'static str {
        match self {
            FileType::F32 => "F32",
            FileType::F16 => "F16",
            FileType::Q4_0 => "Q4_0",
            FileType::Q8_0 => "Q8_0",
            FileType::Q4KS => "Q4_K_S",
            FileType::Q4KM => "Q4_K_M",
            FileType::BF16 => "BF16",
        }
    }

    pub fn number(self) -> i64 {
        match self {
            FileType::F32 => 0,
            FileType::F16 => 1,
            FileType::Q4_0 => 2,
            FileType::Q8_0 => 7,
            FileType::Q4KS => 14,
            FileType::Q4KM => 15,
            FileType::BF16 => 32,
        }
    }

    pub fn from_number(n: i64) -> Option<FileType> {
        [
            FileType::F32,
            FileType::F16,
            FileType::Q4_0,
            FileType::Q8_0,
            FileType::Q4KS,
            FileType::Q4KM,
            FileType::BF16,
        ]
        .into_iter()
        .find(|t| t.number() == n)
    }

    /// `ggml.ParseFileType` for `quantize` (already upper-cased).
    pub fn parse_quantize(s: &str) -> Result<FileType, String> {
        match s {
            "F32" => Ok(FileType::F32),
            "F16" => Ok(FileType::F16),
            "Q8_0" => Ok(FileType::Q8_0),
            "Q4_K_S" => Ok(FileType::Q4KS),
            "Q4_K_M" | "Q4_K" => Ok(FileType::Q4KM),
            "BF16" => Ok(FileType::BF16),
            _ => Err(format!(
                "unsupported quantization type {s} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"
            )),
        }
    }

    /// Average bits per weight of a GGUF in this type (llama.cpp's quantize table).
    pub fn bits_per_weight(self) -> f64 {
        match self {
            FileType::F32 => 32.0,
            FileType::F16 | FileType::BF16 => 16.0,
            FileType::Q8_0 => 8.5,
            FileType::Q4_0 => 4.55,
            FileType::Q4KS => 4.58,
            FileType::Q4KM => 4.89,
        }
    }
}

/// One model of the library.
pub struct BaseModel {
    /// Every `model:tag` that names it (first = canonical).
    pub names: &'static [&'static str],
    pub architecture: &'static str,
    pub parameter_count: u64,
    pub file_type: FileType,
    /// Bytes of the GGUF (the model layer's size).
    pub size: u64,
    pub block_count: u64,
    pub context_length: u64,
    pub embedding_length: u64,
    pub feed_forward_length: u64,
    pub head_count: u64,
    pub head_count_kv: u64,
    pub vocab_size: u64,
    pub rope_freq_base: f64,
    pub tokenizer: &'static str,
    pub template: &'static str,
    /// The GGUF's `tokenizer.chat_template` (Jinja), where the real model has one and a
    /// verified source was at hand; `/api/show` may return it instead of `template`
    /// (`templates::selected_template`).
    pub chat_template: Option<&'static str>,
    pub system: Option<&'static str>,
    /// The params layer's JSON, if the library model has one.
    pub params: Option<&'static str>,
    pub licenses: &'static [&'static str],
}

const LLAMA3_TEMPLATE: &str = "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n\n{{ if .System }}{{ .System }}{{ end }}\n{{- if .Tools }}\n\nYou can call these functions; answer with a JSON object {\"name\": ..., \"parameters\": ...}:\n{{ range .Tools }}{{ . }}\n{{ end }}{{ end }}<|eot_id|>{{ end }}{{ if .Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>";
const LLAMA3_PARAMS: &str = r#"{"stop":["<|start_header_id|>","<|end_header_id|>","<|eot_id|>"]}"#;
const LLAMA32_LICENSES: &[&str] = &[
    "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(The emulated registry keeps only the first lines of this license.)",
    "**Llama 3.2** **Acceptable Use Policy**\n\n(The emulated registry keeps only the first lines of this policy.)",
];
const LLAMA31_LICENSES: &[&str] = &[
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n\n(The emulated registry keeps only the first lines of this license.)",
];
const MISTRAL_TEMPLATE: &str = "{{- if .Tools }}[AVAILABLE_TOOLS] {{ range .Tools }}{{ . }} {{ end }}[/AVAILABLE_TOOLS]{{ end }}[INST] {{ if .System }}{{ .System }}\n\n{{ end }}{{ .Prompt }}[/INST] {{ .Response }}";
const MISTRAL_PARAMS: &str = r#"{"stop":["[INST]","[/INST]"]}"#;
const APACHE: &[&str] = &[
    "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n\n(The emulated registry keeps only the first lines of this license.)",
];
const QWEN_TEMPLATE: &str = "<|im_start|>system\n{{ if .System }}{{ .System }}{{ else }}You are Qwen, created by Alibaba Cloud. You are a helpful assistant.{{ end }}\n{{- if .Tools }}\n\n# Tools\n\n<tools>\n{{ range .Tools }}{{ . }}\n{{ end }}</tools>{{ end }}<|im_end|>\n{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n{{ .Response }}<|im_end|>";
const GEMMA_TEMPLATE: &str = "<start_of_turn>user\n{{ if .System }}{{ .System }} {{ end }}{{ .Prompt }}<end_of_turn>\n<start_of_turn>model\n{{ .Response }}<end_of_turn>\n";
const GEMMA_PARAMS: &str = r#"{"stop":["<start_of_turn>","<end_of_turn>"]}"#;
const GEMMA_LICENSES: &[&str] = &[
    "Gemma Terms of Use\n\nLast modified: February 21, 2024\n\n(The emulated registry keeps only the first lines of these terms.)",
];
const PHI3_TEMPLATE: &str = "{{ if .System }}<|system|>\n{{ .System }}<|end|>\n{{ end }}{{ if .Prompt }}<|user|>\n{{ .Prompt }}<|end|>\n{{ end }}<|assistant|>\n{{ .Response }}<|end|>";
const PHI3_PARAMS: &str = r#"{"stop":["<|end|>","<|user|>","<|assistant|>"]}"#;
const MIT: &[&str] = &[
    "Microsoft.\nCopyright (c) Microsoft Corporation.\n\nMIT License\n\n(The emulated registry keeps only the first lines of this license.)",
];

/// The Llama 3.x library template with its tool round trip (`.ToolCalls`, the `tool` role as
/// an `ipython` turn): ollama.com/library/llama3.2 blob `966de95ca8a6`, as a user copied it
/// verbatim (search index find_string id 49839281536, 2024-10). The llama3.1 library
/// template has the same structure; UNCONFIRMED that it is byte for byte this text.
const LLAMA31_TEMPLATE: &str = r#"<|start_header_id|>system<|end_header_id|>

Cutting Knowledge Date: December 2023

{{ if .System }}{{ .System }}
{{- end }}
{{- if .Tools }}When you receive a tool call response, use the output to format an answer to the orginal user question.

You are a helpful assistant with tool calling capabilities.
{{- end }}<|eot_id|>
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>
{{- if and $.Tools $last }}

Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}. Do not use variables.

{{ range $.Tools }}
{{- . }}
{{ end }}
{{ .Content }}<|eot_id|>
{{- else }}

{{ .Content }}<|eot_id|>
{{- end }}{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>
{{- if .ToolCalls }}
{{ range .ToolCalls }}
{"name": "{{ .Function.Name }}", "parameters": {{ .Function.Arguments }}}{{ end }}
{{- else }}

{{ .Content }}
{{- end }}{{ if not $last }}<|eot_id|>{{ end }}
{{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>

{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- end }}
{{- end }}
"#;

/// `tokenizer.chat_template` of Meta-Llama-3.1-8B-Instruct (tools, `tool_calls`, the
/// `ipython` turn): ollama/ollama v0.32.15 `template/index.json` entry 24 ("llama3-instruct"),
/// which records the Hugging Face `tokenizer_config.json` chat templates Ollama recognises.
const LLAMA31_CHAT_TEMPLATE: &str = r#"{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"#;

/// `tokenizer.chat_template` of Gemma 2 instruct (no tools, no system role):
/// ollama/ollama v0.32.15 `template/index.json` entry 21 ("gemma-instruct").
const GEMMA_CHAT_TEMPLATE: &str = r#"{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '
' + message['content'] | trim + '<end_of_turn>
' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model
'}}{% endif %}"#;

/// `tokenizer.chat_template` of Phi-3 mini instruct (user and assistant turns only):
/// ollama/ollama v0.32.15 `template/index.json` entry 30 ("phi-3"). UNCONFIRMED which of the
/// index's three Phi-3 revisions the library GGUF carries; none has tools.
const PHI3_CHAT_TEMPLATE: &str = r#"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '
' + message['content'] + '<|end|>' + '
' + '<|assistant|>' + '
'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '
'}}{% endif %}{% endfor %}"#;

pub const CATALOGUE: &[BaseModel] = &[
    BaseModel {
        names: &[
            "llama3.2:3b",
            "llama3.2:latest",
            "llama3.2:3b-instruct-q4_K_M",
        ],
        architecture: "llama",
        parameter_count: 3_212_749_888,
        file_type: FileType::Q4KM,
        size: 2_019_377_376,
        block_count: 28,
        context_length: 131_072,
        embedding_length: 3072,
        feed_forward_length: 8192,
        head_count: 24,
        head_count_kv: 8,
        vocab_size: 128_256,
        rope_freq_base: 500_000.0,
        tokenizer: "gpt2",
        template: LLAMA3_TEMPLATE,
        chat_template: None,
        system: None,
        params: Some(LLAMA3_PARAMS),
        licenses: LLAMA32_LICENSES,
    },
    BaseModel {
        names: &["llama3.2:3b-instruct-fp16"],
        architecture: "llama",
        parameter_count: 3_212_749_888,
        file_type: FileType::F16,
        size: 6_433_687_776,
        block_count: 28,
        context_length: 131_072,
        embedding_length: 3072,
        feed_forward_length: 8192,
        head_count: 24,
        head_count_kv: 8,
        vocab_size: 128_256,
        rope_freq_base: 500_000.0,
        tokenizer: "gpt2",
        template: LLAMA3_TEMPLATE,
        chat_template: None,
        system: None,
        params: Some(LLAMA3_PARAMS),
        licenses: LLAMA32_LICENSES,
    },
    BaseModel {
        names: &["llama3.2:1b", "llama3.2:1b-instruct-q8_0"],
        architecture: "llama",
        parameter_count: 1_235_814_432,
        file_type: FileType::Q8_0,
        size: 1_321_082_688,
        block_count: 16,
        context_length: 131_072,
        embedding_length: 2048,
        feed_forward_length: 8192,
        head_count: 32,
        head_count_kv: 8,
        vocab_size: 128_256,
        rope_freq_base: 500_000.0,
        tokenizer: "gpt2",
        template: LLAMA3_TEMPLATE,
        chat_template: None,
        system: None,
        params: Some(LLAMA3_PARAMS),
        licenses: LLAMA32_LICENSES,
    },
    BaseModel {
        names: &[
            "llama3.1:8b",
            "llama3.1:latest",
            "llama3.1:8b-instruct-q4_K_M",
        ],
        architecture: "llama",
        parameter_count: 8_030_261_248,
        file_type: FileType::Q4KM,
        size: 4_920_734_016,
        block_count: 32,
        context_length: 131_072,
        embedding_length: 4096,
        feed_forward_length: 14_336,
        head_count: 32,
        head_count_kv: 8,
        vocab_size: 128_256,
        rope_freq_base: 500_000.0,
        tokenizer: "gpt2",
        template: LLAMA31_TEMPLATE,
        chat_template: Some(LLAMA31_CHAT_TEMPLATE),
        system: None,
        params: Some(LLAMA3_PARAMS),
        licenses: LLAMA31_LICENSES,
    },
    BaseModel {
        names: &["mistral:7b", "mistral:latest", "mistral:7b-instruct"],
        architecture: "llama",
        parameter_count: 7_248_023_552,
        file_type: FileType::Q4_0,
        size: 4_113_289_184,
        block_count: 32,
        context_length: 32_768,
        embedding_length: 4096,
        feed_forward_length: 14_336,
        head_count: 32,
        head_count_kv: 8,
        vocab_size: 32_768,
        rope_freq_base: 1_000_000.0,
        tokenizer: "llama",
        template: MISTRAL_TEMPLATE,
        chat_template: None,
        system: None,
        params: Some(MISTRAL_PARAMS),
        licenses: APACHE,
    },
    BaseModel {
        names: &["mistral:7b-instruct-q4_K_M"],
        architecture: "llama",
        parameter_count: 7_248_023_552,
        file_type: FileType::Q4KM,
        size: 4_372_812_000,
        block_count: 32,
        context_length: 32_768,
        embedding_length: 4096,
        feed_forward_length: 14_336,
        head_count: 32,
        head_count_kv: 8,
        vocab_size: 32_768,
        rope_freq_base: 1_000_000.0,
        tokenizer: "llama",
        template: MISTRAL_TEMPLATE,
        chat_template: None,
        system: None,
        params: Some(MISTRAL_PARAMS),
        licenses: APACHE,
    },
    BaseModel {
        names: &["qwen2.5:7b", "qwen2.5:latest", "qwen2.5:7b-instruct-q4_K_M"],
        architecture: "qwen2",
        parameter_count: 7_615_616_512,
        file_type: FileType::Q4KM,
        size: 4_683_073_184,
        block_count: 28,
        context_length: 32_768,
        embedding_length: 3584,
        feed_forward_length: 18_944,
        head_count: 28,
        head_count_kv: 4,
        vocab_size: 152_064,
        rope_freq_base: 1_000_000.0,
        tokenizer: "gpt2",
        template: QWEN_TEMPLATE,
        chat_template: None,
        system: None,
        params: None,
        licenses: APACHE,
    },
    BaseModel {
        names: &["qwen2.5:14b", "qwen2.5:14b-instruct-q4_K_M"],
        architecture: "qwen2",
        parameter_count: 14_770_033_664,
        file_type: FileType::Q4KM,
        size: 8_988_110_976,
        block_count: 48,
        context_length: 32_768,
        embedding_length: 5120,
        feed_forward_length: 13_824,
        head_count: 40,
        head_count_kv: 8,
        vocab_size: 152_064,
        rope_freq_base: 1_000_000.0,
        tokenizer: "gpt2",
        template: QWEN_TEMPLATE,
        chat_template: None,
        system: None,
        params: None,
        licenses: APACHE,
    },
    BaseModel {
        names: &["gemma2:9b", "gemma2:latest", "gemma2:9b-instruct-q4_0"],
        architecture: "gemma2",
        parameter_count: 9_241_705_984,
        file_type: FileType::Q4_0,
        size: 5_443_143_456,
        block_count: 42,
        context_length: 8192,
        embedding_length: 3584,
        feed_forward_length: 14_336,
        head_count: 16,
        head_count_kv: 8,
        vocab_size: 256_000,
        rope_freq_base: 10_000.0,
        tokenizer: "llama",
        template: GEMMA_TEMPLATE,
        chat_template: Some(GEMMA_CHAT_TEMPLATE),
        system: None,
        params: Some(GEMMA_PARAMS),
        licenses: GEMMA_LICENSES,
    },
    BaseModel {
        names: &["phi3:mini", "phi3:latest", "phi3:3.8b"],
        architecture: "phi3",
        parameter_count: 3_821_079_552,
        file_type: FileType::Q4_0,
        size: 2_176_177_120,
        block_count: 32,
        context_length: 131_072,
        embedding_length: 3072,
        feed_forward_length: 8192,
        head_count: 32,
        head_count_kv: 32,
        vocab_size: 32_064,
        rope_freq_base: 10_000.0,
        tokenizer: "llama",
        template: PHI3_TEMPLATE,
        chat_template: Some(PHI3_CHAT_TEMPLATE),
        system: None,
        params: Some(PHI3_PARAMS),
        licenses: MIT,
    },
];

/// Every `model:tag` the registry serves, canonical names first.
pub fn names() -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .flat_map(|m| m.names.iter().copied())
        .collect()
}

/// The library model a name refers to: the default host and `library` namespace, model and
/// tag compared case-insensitively (UNCONFIRMED: the real registry's case handling).
pub fn find(name: &Name) -> Option<&'static BaseModel> {
    if !name.host.eq_ignore_ascii_case(DEFAULT_HOST)
        || !name.namespace.eq_ignore_ascii_case(DEFAULT_NAMESPACE)
    {
        return None;
    }
    let wanted = format!("{}:{}", name.model, name.tag);
    CATALOGUE
        .iter()
        .find(|m| m.names.iter().any(|n| n.eq_ignore_ascii_case(&wanted)))
}

/// `format.HumanNumber`: `3.2B`, `8B`, `135.00M`.
pub fn human_number(n: u64) -> String {
    let f = n as f64;
    if n >= 1_000_000_000 {
        let v = f / 1e9;
        if v == v.floor() {
            format!("{v:.0}B")
        } else {
            format!("{v:.1}B")
        }
    } else if n >= 1_000_000 {
        let v = f / 1e6;
        if v == v.floor() {
            format!("{v:.0}M")
        } else {
            format!("{v:.2}M")
        }
    } else if n >= 1_000 {
        format!("{:.0}K", f / 1e3)
    } else {
        n.to_string()
    }
}

/// A blob as the registry serves it.
#[derive(Clone, Debug)]
pub struct Blob {
    pub media_type: &'static str,
    pub digest: String,
    /// The size the manifest declares (the real file size for model weights).
    pub size: u64,
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>, declared: Option<u64>) -> Blob {
        Blob {
            media_type,
            digest: format!("sha256:{}", sha256_hex(&bytes)),
            size: declared.unwrap_or(bytes.len() as u64),
            bytes,
        }
    }
}

/// Go's `json.Encoder` output: the JSON text and a newline.
pub fn encoder_line(value: &J) -> Vec<u8> {
    let mut text = value.to_json();
    text.push('\n');
    text.into_bytes()
}

impl BaseModel {
    /// The GGUF key/values `/api/show` reports as `model_info` (arrays longer than five
    /// elements already emptied, as without `verbose`).
    pub fn gguf_kv(&self) -> J {
        let arch = self.architecture;
        let mut kv: Vec<(String, J)> = vec![
            ("general.architecture".into(), J::str(arch)),
            ("general.file_type".into(), J::Int(self.file_type.number())),
            (
                "general.parameter_count".into(),
                J::Int(self.parameter_count as i64),
            ),
            ("general.quantization_version".into(), J::Int(2)),
            (
                format!("{arch}.attention.head_count"),
                J::Int(self.head_count as i64),
            ),
            (
                format!("{arch}.attention.head_count_kv"),
                J::Int(self.head_count_kv as i64),
            ),
            (
                format!("{arch}.attention.layer_norm_rms_epsilon"),
                J::Float(if arch == "gemma2" { 1e-6 } else { 1e-5 }),
            ),
            (
                format!("{arch}.block_count"),
                J::Int(self.block_count as i64),
            ),
            (
                format!("{arch}.context_length"),
                J::Int(self.context_length as i64),
            ),
            (
                format!("{arch}.embedding_length"),
                J::Int(self.embedding_length as i64),
            ),
            (
                format!("{arch}.feed_forward_length"),
                J::Int(self.feed_forward_length as i64),
            ),
            (
                format!("{arch}.rope.freq_base"),
                J::Float(self.rope_freq_base),
            ),
            ("tokenizer.ggml.model".into(), J::str(self.tokenizer)),
            ("tokenizer.ggml.tokens".into(), J::Arr(Vec::new())),
            ("tokenizer.ggml.token_type".into(), J::Arr(Vec::new())),
        ];
        if arch == "llama" {
            kv.push((
                "llama.rope.dimension_count".into(),
                J::Int((self.embedding_length / self.head_count) as i64),
            ));
            kv.push(("llama.vocab_size".into(), J::Int(self.vocab_size as i64)));
        }
        if self.tokenizer == "gpt2" {
            kv.push(("tokenizer.ggml.merges".into(), J::Arr(Vec::new())));
        }
        if let Some(chat_template) = self.chat_template {
            kv.push(("tokenizer.chat_template".into(), J::str(chat_template)));
        }
        kv.sort_by(|a, b| a.0.cmp(&b.0));
        J::Obj(kv)
    }

    /// The model layer's bytes: the GGUF metadata as JSON, tensors abbreviated.
    pub fn model_blob(&self) -> Vec<u8> {
        let vocab = self.vocab_size as i64;
        let width = self.embedding_length as i64;
        let quant = match self.file_type {
            FileType::Q4KM | FileType::Q4KS => "Q6_K",
            other => other.name(),
        };
        let tensor = |name: &str, kind: &str, shape: Vec<i64>| {
            J::obj([
                ("name", J::str(name)),
                ("type", J::str(kind)),
                ("shape", J::Arr(shape.into_iter().map(J::Int).collect())),
            ])
        };
        let blob = J::obj([
            (
                "emulated",
                J::str("GGUF metadata only; the weights are not stored in the sandbox"),
            ),
            ("kv", self.gguf_kv()),
            (
                "tensors",
                J::Arr(vec![
                    tensor("token_embd.weight", quant, vec![width, vocab]),
                    tensor("blk.0.attn_norm.weight", "F32", vec![width]),
                    tensor("output_norm.weight", "F32", vec![width]),
                ]),
            ),
        ]);
        encoder_line(&blob)
    }

    /// The layers the registry serves for this model, in manifest order, and the config blob.
    pub fn blobs(&self) -> (Vec<Blob>, Blob) {
        let mut layers = vec![Blob::new(MEDIA_MODEL, self.model_blob(), Some(self.size))];
        layers.push(Blob::new(
            MEDIA_TEMPLATE,
            self.template.as_bytes().to_vec(),
            None,
        ));
        for license in self.licenses {
            layers.push(Blob::new(MEDIA_LICENSE, license.as_bytes().to_vec(), None));
        }
        if let Some(system) = self.system {
            layers.push(Blob::new(MEDIA_SYSTEM, system.as_bytes().to_vec(), None));
        }
        if let Some(params) = self.params {
            let value: serde_json::Value =
                serde_json::from_str(params).unwrap_or(serde_json::Value::Null);
            layers.push(Blob::new(
                MEDIA_PARAMS,
                encoder_line(&J::from_value(&value)),
                None,
            ));
        }
        // The config blob the library model was pushed with. Library models were pushed by
        // Ollama releases before v0.32.7, whose `createConfigLayer` still wrote
        // `rootfs.diff_ids` (removed in commit 5a173edb6), so a pulled model keeps it; only
        // models created by this server lack it (`store::config_blob`).
        let config = J::obj([
            ("model_format", J::str("gguf")),
            ("model_family", J::str(self.architecture)),
            ("model_families", J::Arr(vec![J::str(self.architecture)])),
            ("model_type", J::str(human_number(self.parameter_count))),
            ("file_type", J::str(self.file_type.name())),
            ("architecture", J::str("amd64")),
            ("os", J::str("linux")),
            (
                "rootfs",
                J::obj([
                    ("type", J::str("layers")),
                    (
                        "diff_ids",
                        J::Arr(layers.iter().map(|l| J::str(l.digest.clone())).collect()),
                    ),
                ]),
            ),
        ]);
        let config = Blob::new(MEDIA_CONFIG, encoder_line(&config), None);
        (layers, config)
    }

    /// The manifest bytes the registry returns (compact JSON).
    pub fn manifest(&self) -> (Vec<u8>, Vec<Blob>, Blob) {
        let (layers, config) = self.blobs();
        let layer = |b: &Blob| {
            J::obj([
                ("mediaType", J::str(b.media_type)),
                ("digest", J::str(b.digest.clone())),
                ("size", J::Int(b.size as i64)),
            ])
        };
        let manifest = J::obj([
            ("schemaVersion", J::Int(2)),
            ("mediaType", J::str(MEDIA_MANIFEST)),
            ("config", layer(&config)),
            ("layers", J::Arr(layers.iter().map(layer).collect())),
        ]);
        (manifest.to_json().into_bytes(), layers, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `format.HumanNumber` (`format/format_test.go`).
    #[test]
    fn human_numbers() {
        assert_eq!(human_number(3_212_749_888), "3.2B");
        assert_eq!(human_number(8_000_000_000), "8B");
        assert_eq!(human_number(14_770_033_664), "14.8B");
        assert_eq!(human_number(135_000_000), "135M");
        assert_eq!(human_number(1_500_000), "1.50M");
    }

    /// Aliases share one manifest (`llama3.2:latest` is `llama3.2:3b`), so their digests match.
    #[test]
    fn aliases_resolve_to_one_model() {
        let a = find(&Name::parse("llama3.2")).unwrap();
        let b = find(&Name::parse("LLAMA3.2:3B")).unwrap();
        assert!(std::ptr::eq(a, b));
        assert!(find(&Name::parse("nonexistent")).is_none());
        assert!(find(&Name::parse("me/llama3.2")).is_none());
        assert!(names().contains(&"mistral:7b-instruct-q4_K_M"));
        let (manifest, layers, _) = a.manifest();
        assert_eq!(layers[0].size, 2_019_377_376);
        assert!(String::from_utf8(manifest).unwrap().starts_with(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{"
        ));
    }
}
