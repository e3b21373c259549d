//! The model store, laid out as Ollama lays it out under `OLLAMA_MODELS` (ollama/ollama
//! `manifest/paths.go`, `manifest/manifest.go`, `server/images.go GetModel` at v0.32.15):
//!
//! - `manifests/<host>/<namespace>/<model>/<tag>`: the manifest JSON (`schemaVersion`,
//!   `mediaType`, `config`, `layers` with `mediaType`, `digest`, `size` and, for a model
//!   layer inherited through `from`, `from`);
//! - `blobs/sha256-<hex>`: the layers (template, system, params JSON, licence text, messages
//!   JSON, the config JSON) and the model weights, which in the sandbox hold only the GGUF
//!   metadata as JSON (see `registry.rs`); their manifest `size` is the real one.
//!
//! The directory is the server's effective `OLLAMA_MODELS`, resolved through the emulated
//! Mac's symlinks (`files::resolve`), so `models -> models.noindex` keeps working.

use super::gofmt::J;
use super::names::Name;
use super::registry::{self, FileType, MEDIA_CONFIG, MEDIA_MANIFEST};
use super::sha256_hex;
use super::templates;
use crate::files;
use crate::machine::Machine;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One layer of a manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    pub from: String,
    /// The progress text create reports for it (`manifest.Layer.Status`, not stored).
    pub status: String,
}

impl Layer {
    fn to_j(&self) -> J {
        let mut fields = vec![
            ("mediaType".to_string(), J::str(self.media_type.clone())),
            ("digest".to_string(), J::str(self.digest.clone())),
            ("size".to_string(), J::Int(self.size)),
        ];
        if !self.from.is_empty() {
            fields.push(("from".to_string(), J::str(self.from.clone())));
        }
        J::Obj(fields)
    }

    fn from_value(value: &serde_json::Value) -> Option<Layer> {
        Some(Layer {
            media_type: value.get("mediaType")?.as_str()?.to_string(),
            digest: value.get("digest")?.as_str()?.to_string(),
            size: value.get("size").and_then(|s| s.as_i64()).unwrap_or(0),
            from: value
                .get("from")
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_string(),
            status: String::new(),
        })
    }
}

/// A stored manifest.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub config: Layer,
    pub layers: Vec<Layer>,
    /// Hex SHA-256 of the manifest file (what `/api/tags` calls `digest`).
    pub digest: String,
    pub modified: SystemTime,
}

impl Manifest {
    /// `Manifest.Size()`: every layer plus the config.
    pub fn size(&self) -> i64 {
        self.layers.iter().map(|l| l.size).sum::<i64>() + self.config.size
    }

    pub fn digests(&self) -> Vec<String> {
        let mut all: Vec<String> = self.layers.iter().map(|l| l.digest.clone()).collect();
        all.push(self.config.digest.clone());
        all
    }
}

/// `json.NewEncoder(f).Encode(Manifest{...})`.
pub fn manifest_bytes(config: &Layer, layers: &[Layer]) -> Vec<u8> {
    let value = J::obj([
        ("schemaVersion", J::Int(2)),
        ("mediaType", J::str(MEDIA_MANIFEST)),
        ("config", config.to_j()),
        ("layers", J::Arr(layers.iter().map(Layer::to_j).collect())),
    ]);
    registry::encoder_line(&value)
}

/// A model as `GetModel` reads it.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: Name,
    pub manifest: Manifest,
    pub config: serde_json::Map<String, serde_json::Value>,
    pub template: String,
    pub system: String,
    /// The params layer's keys in stored (sorted) order, values as Go decoded them.
    pub options: Vec<(String, J)>,
    pub messages: Vec<(String, String)>,
    pub licenses: Vec<String>,
    /// Mac path of the model weights blob.
    pub model_path: Option<String>,
    pub parent: String,
    /// The GGUF key/values of the weights (`model_info`).
    pub kv: serde_json::Map<String, serde_json::Value>,
    pub tensors: Vec<serde_json::Value>,
    /// Declared size of the weights.
    pub weights: i64,
    pub adapters: Vec<String>,
    pub projectors: Vec<String>,
    /// Whether a TEMPLATE layer exists (`HasGoTemplate`); without one `template` is the
    /// default `{{ .Prompt }}`.
    pub has_go_template: bool,
    /// The weights' `tokenizer.chat_template` (Jinja), empty when the GGUF has none
    /// (`HasChatTemplate`).
    pub chat_template: String,
    /// The server's `OLLAMA_GO_TEMPLATE` when set (`goTemplateEnvSet`), as it parses it;
    /// `None` when unset or empty. Filled in by `Running::model`.
    pub go_template_env: Option<bool>,
}

pub const DEFAULT_TEMPLATE: &str = "{{ .Prompt }}";

impl Model {
    pub fn config_str(&self, key: &str) -> String {
        self.config
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    }

    pub fn families(&self) -> Option<Vec<String>> {
        self.config
            .get("model_families")
            .and_then(|v| v.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
    }

    /// A GGUF integer key of the model's architecture (`<arch>.context_length`, ...).
    pub fn arch_u64(&self, suffix: &str) -> u64 {
        let arch = self
            .kv
            .get("general.architecture")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        self.kv
            .get(&format!("{arch}.{suffix}"))
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    }

    pub fn parameter_count(&self) -> u64 {
        self.kv
            .get("general.parameter_count")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    }

    /// `Capabilities()` (ollama/ollama v0.32.15 `server/images.go` 110-420): the config's
    /// list; for GGUF weights the Jinja template's `tools`/`thinking` when the model runs
    /// native (`templates::native`), then `completion` (or `embedding` with
    /// `pooling_type`); `vision` with a projector; the Go template's `tools`, `insert`,
    /// `thinking` unless a TEMPLATE layer exists that is not used (`templateCapabilities`).
    pub fn capabilities(&self) -> Vec<String> {
        let mut caps: Vec<String> = Vec::new();
        let mut add = |c: &str| {
            if !caps.iter().any(|x| x == c) {
                caps.push(c.to_string());
            }
        };
        if let Some(list) = self.config.get("capabilities").and_then(|v| v.as_array()) {
            for c in list.iter().filter_map(|c| c.as_str()) {
                add(c);
            }
        }
        let gguf = matches!(self.config_str("model_format").as_str(), "" | "gguf");
        if self.model_path.is_some() && gguf {
            if !templates::rendered_by_ollama(self) {
                for c in templates::jinja_capabilities(&self.chat_template) {
                    add(c);
                }
            }
            if self.kv.contains_key("pooling_type") {
                add("embedding");
            } else {
                add("completion");
            }
        }
        if !self.projectors.is_empty() {
            add("vision");
        }
        if !self.has_go_template || templates::uses_go_template(self) {
            for c in templates::go_capabilities(&self.template) {
                add(c);
            }
        }
        caps
    }
}

/// The store of one server.
#[derive(Clone, Debug)]
pub struct Store {
    /// Canonical Mac path of the models directory.
    pub mac: String,
    /// Where it lives inside the sandbox.
    pub host: PathBuf,
}

/// `^sha256[:-][0-9a-fA-F]{64}$` (`manifest.BlobsPath`).
pub fn valid_digest(digest: &str) -> bool {
    let Some(hex) = digest
        .strip_prefix("sha256:")
        .or_else(|| digest.strip_prefix("sha256-"))
    else {
        return false;
    };
    hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// The store at the Mac path `models` (absolute, after relative paths were joined to the
    /// server's working directory), following symlinks.
    pub fn open(machine: &Machine, models: &str) -> Store {
        match files::resolve(machine, models, true) {
            Ok(resolved) => Store {
                mac: resolved.mac,
                host: resolved.host,
            },
            Err(_) => Store {
                mac: models.to_string(),
                host: machine
                    .host_path(models)
                    .unwrap_or_else(|| machine.dir.join("nonexistent")),
            },
        }
    }

    fn blob_name(digest: &str) -> String {
        digest.replace(':', "-")
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.host.join("blobs").join(Self::blob_name(digest))
    }

    /// The blob's path as the Mac names it (`FROM` lines of `/api/show`).
    pub fn blob_mac_path(&self, digest: &str) -> String {
        format!("{}/blobs/{}", self.mac, Self::blob_name(digest))
    }

    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_file()
    }

    pub fn read_blob(&self, digest: &str) -> Option<Vec<u8>> {
        fs::read(self.blob_path(digest)).ok()
    }

    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.blob_path(digest);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, bytes)
    }

    /// `manifest.NewLayer`: stores `bytes`, reporting `creating new layer` or, when that exact
    /// blob exists, `using existing layer`.
    pub fn new_layer(&self, bytes: &[u8], media_type: &str) -> std::io::Result<Layer> {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        let status = if self.has_blob(&digest) {
            "using existing layer"
        } else {
            self.write_blob(&digest, bytes)?;
            "creating new layer"
        };
        Ok(Layer {
            media_type: media_type.to_string(),
            digest: digest.clone(),
            size: bytes.len() as i64,
            from: String::new(),
            status: format!("{status} {digest}"),
        })
    }

    fn manifests_dir(&self) -> PathBuf {
        self.host.join("manifests")
    }

    fn manifest_path(&self, name: &Name) -> PathBuf {
        let mut path = self.manifests_dir();
        for part in name.parts() {
            path.push(part);
        }
        path
    }

    /// Every stored model name (`manifests/*/*/*/*`, files only), sorted.
    pub fn names(&self) -> Vec<Name> {
        let mut out = Vec::new();
        let level = |dir: &Path| -> Vec<(String, PathBuf)> {
            let Ok(entries) = fs::read_dir(dir) else {
                return Vec::new();
            };
            let mut items: Vec<(String, PathBuf)> = entries
                .filter_map(|e| e.ok())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect();
            items.sort();
            items
        };
        for (host, host_dir) in level(&self.manifests_dir()) {
            for (namespace, ns_dir) in level(&host_dir) {
                for (model, model_dir) in level(&ns_dir) {
                    for (tag, file) in level(&model_dir) {
                        if !file.is_file() {
                            continue;
                        }
                        let name = Name {
                            host: host.clone(),
                            namespace: namespace.clone(),
                            model: model.clone(),
                            tag,
                        };
                        if name.is_valid() {
                            out.push(name);
                        }
                    }
                }
            }
        }
        out
    }

    pub fn manifest(&self, name: &Name) -> Option<Manifest> {
        let path = self.manifest_path(name);
        let bytes = fs::read(&path).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let config = Layer::from_value(value.get("config")?)?;
        let layers = value
            .get("layers")?
            .as_array()?
            .iter()
            .filter_map(Layer::from_value)
            .collect();
        let modified = fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some(Manifest {
            config,
            layers,
            digest: sha256_hex(&bytes),
            modified,
        })
    }

    pub fn write_manifest(&self, name: &Name, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.manifest_path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, bytes)
    }

    pub fn manifest_file(&self, name: &Name) -> Option<Vec<u8>> {
        fs::read(self.manifest_path(name)).ok()
    }

    /// `Manifest.Remove`: the file, then empty directories up to `manifests/`
    /// (`PruneDirectory`).
    pub fn remove_manifest(&self, name: &Name) -> std::io::Result<()> {
        let path = self.manifest_path(name);
        fs::remove_file(&path)?;
        let root = self.manifests_dir();
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(current) = dir {
            if current == root || !current.starts_with(&root) {
                break;
            }
            if fs::remove_dir(&current).is_err() {
                break;
            }
            dir = current.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    /// Removes the blobs among `digests` that no stored manifest references any more
    /// (`RemoveLayers`, `deleteUnusedLayers`).
    pub fn remove_unused(&self, digests: &[String]) {
        let mut used: Vec<String> = Vec::new();
        for name in self.names() {
            if let Some(m) = self.manifest(&name) {
                used.extend(m.digests());
            }
        }
        for digest in digests {
            if !used.contains(digest) {
                let _ = fs::remove_file(self.blob_path(digest));
            }
        }
    }

    /// `GetModel`: the manifest and every layer read back.
    pub fn model(&self, name: &Name) -> Option<Model> {
        let manifest = self.manifest(name)?;
        let config = self
            .read_blob(&manifest.config.digest)
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        let mut model = Model {
            name: name.clone(),
            manifest: manifest.clone(),
            config,
            template: DEFAULT_TEMPLATE.to_string(),
            system: String::new(),
            options: Vec::new(),
            messages: Vec::new(),
            licenses: Vec::new(),
            model_path: None,
            parent: String::new(),
            kv: serde_json::Map::new(),
            tensors: Vec::new(),
            weights: 0,
            adapters: Vec::new(),
            projectors: Vec::new(),
            has_go_template: false,
            chat_template: String::new(),
            go_template_env: None,
        };
        for layer in &manifest.layers {
            let text = || {
                self.read_blob(&layer.digest)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            };
            match layer.media_type.as_str() {
                registry::MEDIA_MODEL => {
                    model.model_path = Some(self.blob_mac_path(&layer.digest));
                    model.parent = layer.from.clone();
                    model.weights = layer.size;
                    if let Ok(serde_json::Value::Object(gguf)) =
                        serde_json::from_str::<serde_json::Value>(&text())
                    {
                        if let Some(serde_json::Value::Object(kv)) = gguf.get("kv") {
                            model.kv = kv.clone();
                            model.chat_template = kv
                                .get("tokenizer.chat_template")
                                .and_then(|v| v.as_str())
                                .unwrap_or_default()
                                .to_string();
                        }
                        if let Some(serde_json::Value::Array(t)) = gguf.get("tensors") {
                            model.tensors = t.clone();
                        }
                    }
                }
                registry::MEDIA_ADAPTER => model.adapters.push(self.blob_mac_path(&layer.digest)),
                registry::MEDIA_PROJECTOR => {
                    model.projectors.push(self.blob_mac_path(&layer.digest))
                }
                registry::MEDIA_TEMPLATE | "application/vnd.ollama.image.prompt" => {
                    model.has_go_template = true;
                    model.template = text()
                }
                registry::MEDIA_SYSTEM => model.system = text(),
                registry::MEDIA_PARAMS => {
                    if let Ok(serde_json::Value::Object(map)) =
                        serde_json::from_str::<serde_json::Value>(&text())
                    {
                        model.options = map
                            .iter()
                            .map(|(k, v)| (k.clone(), J::from_value(v)))
                            .collect();
                    }
                }
                registry::MEDIA_MESSAGES => {
                    if let Ok(serde_json::Value::Array(items)) =
                        serde_json::from_str::<serde_json::Value>(&text())
                    {
                        model.messages = items.iter().map(message_fields).collect();
                    }
                }
                registry::MEDIA_LICENSE => model.licenses.push(text()),
                _ => {}
            }
        }
        Some(model)
    }

    /// Writes a pulled model exactly as the registry served it (blobs first, then the
    /// manifest bytes verbatim, as `PullModel` does).
    pub fn install_from_registry(
        &self,
        name: &Name,
        base: &registry::BaseModel,
    ) -> std::io::Result<()> {
        let (manifest, layers, config) = base.manifest();
        for blob in layers.iter().chain(std::iter::once(&config)) {
            if !self.has_blob(&blob.digest) {
                self.write_blob(&blob.digest, &blob.bytes)?;
            }
        }
        self.write_manifest(name, &manifest)
    }
}

/// The GGUF file type a model's metadata declares.
pub fn file_type_of(kv: &serde_json::Map<String, serde_json::Value>) -> Option<FileType> {
    kv.get("general.file_type")
        .and_then(|v| v.as_i64())
        .and_then(FileType::from_number)
}

/// A config blob for a created model (`createConfigLayer`, ollama/ollama v0.32.15
/// `server/create.go` 1424-1430): `json.NewEncoder` of `model.ConfigV2` (`types/model/config.go`),
/// whose fields come in struct order with `architecture` and `os` last. Since v0.32.7 (commit
/// 5a173edb6, "manifests: remove OCI rootfs from the model config") there is no
/// `rootfs.diff_ids`, so the config no longer depends on the layers and a created model's
/// config and manifest digests differ from v0.32.3's.
pub fn config_blob(config: &[(String, J)]) -> Vec<u8> {
    let mut fields: Vec<(String, J)> = config.to_vec();
    fields.push(("architecture".into(), J::str("amd64")));
    fields.push(("os".into(), J::str("linux")));
    registry::encoder_line(&J::Obj(fields))
}

pub const CONFIG_MEDIA: &str = MEDIA_CONFIG;

/// A `{role, content}` message as the (role, content) pair the store keeps; missing fields
/// are empty.
pub fn message_fields(message: &serde_json::Value) -> (String, String) {
    let field = |key: &str| {
        message
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    (field("role"), field("content"))
}
