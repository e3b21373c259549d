# Homebrew formula for macllm, kept here as a template: the release workflow
# (.github/workflows/release.yml) replaces the four @...@ values with those of the release it
# makes (packaging/homebrew/fill-formula.sh), tests the result in a local tap and attaches it
# to the release as macllm.rb. It builds from the release's source archive, so it works on
# both Apple Silicon and Intel Macs without bottles.
class Macllm < Formula
  desc "Declarative setup of Macs that run local LLMs (Ollama)"
  homepage "@HOMEPAGE@"
  url "@URL@"
  version "@VERSION@"
  sha256 "@SHA256@"
  license any_of: ["MIT", "Apache-2.0"]

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    # The man pages come from the same clap definitions as the binary (xtask/src/main.rs).
    system "cargo", "run", "--locked", "--release", "--package", "xtask", "--", "man", buildpath/"man"
    man1.install buildpath.glob("man/*.1")
    generate_completions_from_executable(bin/"macllm", "completions", shells: [:bash, :zsh, :fish])
  end

  test do
    (testpath/"macllm.yaml").write <<~YAML
      macllm: 1
      defaults:
        - domain: com.apple.dock
          key: autohide
          value: true
    YAML
    assert_equal "Success! macllm.yaml is valid: 1 resources.\n", shell_output("#{bin}/macllm validate")

    # An emulated Mac: planning against it touches nothing on this one.
    assert_match "Created an emulated Mac in mac: ", shell_output("#{bin}/macllm sandbox init mac")
    assert_path_exists testpath/"mac/machine.json"
    assert_match "# defaults:com.apple.dock:autohide will be updated in-place",
                 shell_output("#{bin}/macllm --host sandbox:mac plan")

    # Built from the release's source archive, the version still names its commit.
    assert_match(/\Amacllm #{Regexp.escape(version.to_s)} \(commit \h{12}\)\n\z/,
                 shell_output("#{bin}/macllm --version"))
  end
end
