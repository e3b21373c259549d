fn main() {
    std::process::exit(macllm::main_entry());
}
