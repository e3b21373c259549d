//! Emulated hardware and macOS versions, each with the settings a fresh Mac of that kind has.
//! Build numbers are Apple's for those releases (12.7.6 = 21H1320, 14.5 = 23F79,
//! 15.1 = 24B83, 15.5 = 24F74); core counts are Apple's published specifications.

use super::machine::MachineInfo;

pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    chip: &'static str,
    memory_gb: u64,
    performance_cores: u32,
    efficiency_cores: u32,
    gpu_cores: u32,
    /// The chip's memory bandwidth in GB/s, a hardware fact of this emulated Mac (Apple's
    /// published figures: M1 68.25, M2 100, M4 Pro 273, M4 Max with 16 CPU cores 546). The
    /// emulated Ollama's timings follow it, so that `macllm bench` against a sandbox compares
    /// the product's own chip table with an independent figure, not with itself.
    memory_bandwidth_gbps: f64,
    product_version: &'static str,
    build_version: &'static str,
    hostname: &'static str,
    /// `false`: reached only over SSH, no Aqua login, so no `gui/<uid>` launchd domain.
    gui_session: bool,
    /// Whether Homebrew's `ollama` (0.32.15) is installed and its service started
    /// (`brew install ollama && brew services start ollama`).
    homebrew_ollama: bool,
    /// Models already pulled into `~/.ollama/models`.
    ollama_models: &'static [&'static str],
}

/// The Homebrew every preset has (`brew --version`), also for machine.json files that name
/// none: Homebrew/brew's newest tag in the research snapshot.
pub const HOMEBREW_VERSION: &str = "6.0.18";

pub const DEFAULT_PRESET: &str = "m2-16gb-sonoma";

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "m1-8gb-monterey",
        summary: "MacBook Air, Apple M1, 8 GB, 4P+4E cores, 7-core GPU, macOS 12.7.6",
        chip: "Apple M1",
        memory_gb: 8,
        performance_cores: 4,
        efficiency_cores: 4,
        gpu_cores: 7,
        memory_bandwidth_gbps: 68.25,
        product_version: "12.7.6",
        build_version: "21H1320",
        hostname: "air-m1.local",
        gui_session: true,
        homebrew_ollama: true,
        ollama_models: &["llama3.2:3b"],
    },
    Preset {
        name: "m2-16gb-sonoma",
        summary: "Mac mini, Apple M2, 16 GB, 4P+4E cores, 10-core GPU, macOS 14.5",
        chip: "Apple M2",
        memory_gb: 16,
        performance_cores: 4,
        efficiency_cores: 4,
        gpu_cores: 10,
        memory_bandwidth_gbps: 100.0,
        product_version: "14.5",
        build_version: "23F79",
        hostname: "mini-m2.local",
        gui_session: true,
        homebrew_ollama: true,
        ollama_models: &["llama3.2:3b"],
    },
    Preset {
        name: "m4pro-48gb-sequoia",
        summary: "Mac mini, Apple M4 Pro, 48 GB, 10P+4E cores, 20-core GPU, macOS 15.1",
        chip: "Apple M4 Pro",
        memory_gb: 48,
        performance_cores: 10,
        efficiency_cores: 4,
        gpu_cores: 20,
        memory_bandwidth_gbps: 273.0,
        product_version: "15.1",
        build_version: "24B83",
        hostname: "mini-m4pro.local",
        gui_session: true,
        homebrew_ollama: true,
        ollama_models: &["llama3.2:3b", "qwen2.5:14b"],
    },
    Preset {
        name: "m4max-64gb-sequoia",
        summary: "MacBook Pro, Apple M4 Max, 64 GB, 12P+4E cores, 40-core GPU, macOS 15.5",
        chip: "Apple M4 Max",
        memory_gb: 64,
        performance_cores: 12,
        efficiency_cores: 4,
        gpu_cores: 40,
        memory_bandwidth_gbps: 546.0,
        product_version: "15.5",
        build_version: "24F74",
        hostname: "mbp-m4max.local",
        gui_session: true,
        homebrew_ollama: true,
        ollama_models: &["llama3.2:3b", "qwen2.5:14b"],
    },
    // The Sonoma mini as a headless server: nobody logged in at the screen, macllm arrives
    // over SSH, so launchd has `user/501` but no `gui/501` (reference 0 and 2.1).
    Preset {
        name: "m2-16gb-sonoma-ssh",
        summary: "Mac mini, Apple M2, 16 GB, 4P+4E cores, 10-core GPU, macOS 14.5, headless (SSH only)",
        chip: "Apple M2",
        memory_gb: 16,
        performance_cores: 4,
        efficiency_cores: 4,
        gpu_cores: 10,
        memory_bandwidth_gbps: 100.0,
        product_version: "14.5",
        build_version: "23F79",
        hostname: "mini-m2.local",
        gui_session: false,
        homebrew_ollama: true,
        ollama_models: &["llama3.2:3b"],
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

impl Preset {
    pub fn info(&self) -> MachineInfo {
        MachineInfo {
            preset: self.name.to_string(),
            chip: self.chip.to_string(),
            memory_bytes: self.memory_gb << 30,
            performance_cores: self.performance_cores,
            efficiency_cores: self.efficiency_cores,
            gpu_cores: self.gpu_cores,
            memory_bandwidth_gbps: self.memory_bandwidth_gbps,
            product_version: self.product_version.to_string(),
            build_version: self.build_version.to_string(),
            hostname: self.hostname.to_string(),
            user: "admin".to_string(),
            uid: 501,
            user_uid: 501,
            hardware_uuid: "6A1F3C52-9B0E-4D47-8E21-3C5D7F9A0B14".to_string(),
            gui_session: self.gui_session,
            setenv_agents_win_boot_race: false,
            homebrew_version: HOMEBREW_VERSION.to_string(),
            full_disk_access: false,
            sudo_user: None,
            asuser: None,
            over_ssh: false,
        }
    }

    /// Whether Homebrew's Ollama is installed and running on a fresh Mac of this kind.
    pub fn homebrew_ollama(&self) -> bool {
        self.homebrew_ollama
    }

    /// The models a fresh Mac of this kind has pulled already.
    pub fn ollama_models(&self) -> &'static [&'static str] {
        self.ollama_models
    }

    /// Preferences a fresh Mac already has, so that plans show real `before` values and
    /// destroy has originals to put back.
    pub fn stock_defaults(&self) -> Vec<(String, plist::Dictionary)> {
        use plist::Value as V;
        let mut dock = plist::Dictionary::new();
        dock.insert("autohide".into(), V::Boolean(false));
        dock.insert("tilesize".into(), V::Integer(48.into()));
        dock.insert("orientation".into(), V::String("bottom".into()));
        dock.insert("mineffect".into(), V::String("genie".into()));
        dock.insert("show-recents".into(), V::Boolean(true));
        dock.insert("magnification".into(), V::Boolean(false));
        dock.insert("mod-count".into(), V::Integer(12.into()));
        dock.insert(
            "persistent-apps".into(),
            V::Array(vec![
                dock_tile("com.apple.Safari", "Safari"),
                dock_tile("com.apple.Terminal", "Terminal"),
            ]),
        );
        let mut global = plist::Dictionary::new();
        global.insert("AppleLocale".into(), V::String("en_US".into()));
        global.insert(
            "AppleLanguages".into(),
            V::Array(vec![V::String("en-US".into())]),
        );
        global.insert(
            "AppleInterfaceStyleSwitchesAutomatically".into(),
            V::Boolean(true),
        );
        global.insert(
            "NSAutomaticSpellingCorrectionEnabled".into(),
            V::Boolean(true),
        );
        let mut finder = plist::Dictionary::new();
        finder.insert("ShowPathbar".into(), V::Boolean(false));
        finder.insert("FXPreferredViewStyle".into(), V::String("icnv".into()));
        let mut access = plist::Dictionary::new();
        access.insert("reduceMotion".into(), V::Boolean(false));
        access.insert("reduceTransparency".into(), V::Boolean(false));
        vec![
            ("com.apple.dock".into(), dock),
            ("NSGlobalDomain".into(), global),
            ("com.apple.finder".into(), finder),
            ("com.apple.universalaccess".into(), access),
        ]
    }
}

fn dock_tile(bundle: &str, label: &str) -> plist::Value {
    let mut data = plist::Dictionary::new();
    data.insert("bundle-identifier".into(), bundle.into());
    data.insert("file-label".into(), label.into());
    data.insert("file-mod-date".into(), plist::Value::Integer(0.into()));
    let mut tile = plist::Dictionary::new();
    tile.insert("tile-data".into(), plist::Value::Dictionary(data));
    tile.insert("tile-type".into(), "file-tile".into());
    plist::Value::Dictionary(tile)
}
