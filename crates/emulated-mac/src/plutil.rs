//! Emulated `plutil`, after Apple's plutil as published in 2024 with swift-foundation
//! (`Sources/plutil`, which keeps the Objective-C tool's messages and output formats) and
//! the captures below. Paths are Mac paths of the emulated Mac (symlinks resolved inside it,
//! see [`super::files::resolve`]); `-` is stdin.
//!
//! - `plutil [-lint] [-s] PATH...`: `PATH: OK` for each readable property list (XML, binary
//!   or old-style), status 0 (community captures, e.g. rust-plist#165 `availability.plist:
//!   OK`). A broken one prints `PATH: REASON` and makes the status 1 (captures:
//!   vim-syntastic#1050 `... : Value missing for key inside <dict> at line 24`, llvm#56380
//!   `... : Found non-key inside <dict> at line 26357`). The reasons here are CF-style but
//!   derived from our parser's error: the wording for each case is UNCONFIRMED.
//! - A file that cannot be read: `PATH: file does not exist or is not readable or is not a
//!   regular file (Error Domain=NSCocoaErrorDomain Code=260 ...)` — the shape of a captured
//!   Code=257 message (2022, a Rust project's notes: printed on stdout, stderr empty).
//! - `-convert xml1|binary1|json PATH [-o OUT|-] [-e EXT] [-r] [-s]`: rewrites PATH (or
//!   writes OUT, `-` = stdout) silently. Input that is not a property list is tried as JSON;
//!   if both fail: `PATH: Property List error: ... / JSON error: ...` (llvm#56380, status 1).
//!   XML is CoreFoundation's (tabs, sorted keys: the writer `defaults export` uses); JSON is
//!   NSJSONSerialization's: compact, `/` escaped as `\/`, `-r` for two-space pretty printing
//!   with sorted keys and ` : `; dates and data cannot be JSON (`Invalid object in plist for
//!   destination format`, UNCONFIRMED wording).
//! - `-extract KEYPATH FMT [-expect TYPE] [-o OUT|-] [-n] PATH`: the value at a key path
//!   (`.`-separated, numbers index arrays). FMT `raw` prints to stdout with a newline (`-n`
//!   drops it): bools `true`/`false`, integers, reals with `%f`, strings as they are, dates
//!   RFC 3339 UTC, data base64, dictionaries their sorted keys one per line, arrays their
//!   count. `json`/`xml1`/`binary1` write a new property list: to OUT, stdout with `-o -`,
//!   and (as plutil does) over PATH when `-o` is missing. A missing key: `PATH: Could not
//!   extract value, error: No value at that key path or invalid key path: KEYPATH`, status 1
//!   (macOS 14 prints it on stdout: noted by several public shell test suites). A scalar in
//!   `json` is written as a JSON fragment (`"text"`, `1`, `true`: UNCONFIRMED for the
//!   Objective-C tool; the Swift port refuses fragments). No trailing newline after JSON.
//! - `-type KEYPATH [-expect TYPE] PATH`: `bool`, `integer`, `float`, `string`, `date`,
//!   `data`, `dictionary` or `array`, and a newline.
//! - `-p PATH`: `{` / `  "key" => value` / `}` with keys sorted case-insensitively, arrays as
//!   `  0 => value`, strings quoted, data as `{length = N, bytes = 0x...}`.
//! - Messages go to stdout, as the Objective-C plutil of macOS 12-14 does; whether macOS 15's
//!   Swift-based plutil moved them to stderr is UNCONFIRMED. Status 1 when any file failed.
//! - `-insert`, `-replace`, `-remove`, `-create` are refused as not emulated. Output is text:
//!   `binary1` to stdout is not byte-exact (the sandbox's Output holds a String).

use super::defaults;
use super::files::{self, Errno};
use super::libc::base64;
use super::machine::Machine;
use crate::output::Output;
use plist::Value;
use std::fmt::Write as _;
use std::io::Cursor;

/// `plutil ARGS` with no input on stdin (what the dispatcher in mod.rs calls).
pub fn run(machine: &Machine, args: &[String]) -> Output {
    run_with_stdin(machine, args, b"")
}

/// `plutil ARGS` with `stdin` for the path `-`.
pub fn run_with_stdin(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    files::ensure_skeleton(machine);
    let Some((command, rest)) = args.split_first() else {
        return failure("No files specified.\n");
    };
    let plutil = Plutil { machine, stdin };
    let result = match command.as_str() {
        "-help" => Ok(Output::ok(HELP)),
        "-lint" => plutil.lint(rest),
        "-p" => plutil.print(rest),
        "-convert" => match rest.split_first() {
            None => Err("Missing format specifier for command.".to_string()),
            Some((format, rest)) => Format::parse(format).and_then(|f| plutil.convert(f, rest)),
        },
        "-extract" => match rest {
            [key_path, format, rest @ ..] => {
                Format::parse(format).and_then(|f| plutil.extract(key_path, Some(f), rest))
            }
            _ => Err("'Extract' requires a key path and a plist format.".to_string()),
        },
        "-type" => match rest.split_first() {
            Some((key_path, rest)) => plutil.extract(key_path, None, rest),
            None => Err("'Extract' requires a key path and a plist format.".to_string()),
        },
        "-insert" | "-replace" | "-remove" | "-create" => {
            return Output::failed(
                1,
                format!("plutil: `{command}` is not emulated by macllm's sandbox\n"),
            );
        }
        _ => plutil.lint(args),
    };
    result.unwrap_or_else(|message| failure(&format!("{message}\n")))
}

/// A short help (the real text lists every command; UNCONFIRMED as a whole).
const HELP: &str = "\
plutil: [command_option] [other_options] file...
The file '-' means stdin
Command options are (-lint is the default):
 -help                         show this message and exit
 -lint                         check the property list files for syntax errors
 -convert fmt                  rewrite property list files in format
                               fmt is one of: xml1 binary1 json
 -extract keypath fmt          outputs the value at 'keypath' in the property list as a new plist of type 'fmt'
                               fmt is one of: xml1 binary1 json raw
 -type keypath                 outputs the type of the value at 'keypath' in the property list
 -p                            print property list in a human-readable fashion
                               (not for machine parsing! this 'format' is not stable)
There are some additional optional arguments that apply to the -convert and -extract verbs:
 -s                            be silent on success
 -o path                       specify alternate file path name for result;
                               the path '-' means stdout
 -e extension                  specify alternate extension for converted files
 -r                            if writing JSON, output in human-readable form
 -n                            prevent printing a terminating newline if it is not part of the format, such as with raw
 --                            specifies that all further arguments are file names
";

fn failure(text: &str) -> Output {
    Output {
        status: 1,
        stdout: text.to_string(),
        stderr: String::new(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Xml,
    Binary,
    Json,
    Raw,
}

impl Format {
    fn parse(text: &str) -> Result<Format, String> {
        Ok(match text {
            "xml1" => Format::Xml,
            "binary1" => Format::Binary,
            "json" => Format::Json,
            "raw" => Format::Raw,
            other => return Err(format!("Unknown format specifier: {other}")),
        })
    }
}

/// The options after the command (`PLUContextArguments`).
#[derive(Default)]
struct Options {
    silent: bool,
    output: Option<String>,
    extension: Option<String>,
    readable: bool,
    no_newline: bool,
    expect: Option<String>,
    paths: Vec<String>,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut opts = Options::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--" => opts.paths.extend(iter.by_ref().cloned()),
            "-s" => opts.silent = true,
            "-r" => opts.readable = true,
            "-n" => opts.no_newline = true,
            "-o" => {
                opts.output = Some(iter.next().ok_or("Missing argument for -o.")?.clone());
            }
            "-e" => {
                opts.extension = Some(iter.next().ok_or("Missing argument for -e.")?.clone());
            }
            "-expect" => {
                let kind = iter.next().ok_or("-expect requires a type argument.")?;
                if !TYPES.contains(&kind.as_str()) {
                    return Err(format!("-expect type [{kind}] not valid."));
                }
                opts.expect = Some(kind.clone());
            }
            other if other.starts_with('-') && other.len() > 1 => {
                return Err(format!("unrecognized option: {other}"));
            }
            path => opts.paths.push(path.to_string()),
        }
    }
    if opts.paths.is_empty() {
        return Err("No files specified.".to_string());
    }
    Ok(opts)
}

const TYPES: &[&str] = &[
    "bool",
    "integer",
    "float",
    "string",
    "date",
    "data",
    "dictionary",
    "array",
];

struct Plutil<'a> {
    machine: &'a Machine,
    stdin: &'a [u8],
}

/// How a path is named in messages (`-` is `<stdin>`).
fn shown(path: &str) -> &str {
    if path == "-" { "<stdin>" } else { path }
}

impl Plutil<'_> {
    /// The file's bytes, or the NSCocoaError text plutil prints.
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        if path == "-" {
            return Ok(self.stdin.to_vec());
        }
        files::read_mac_file(self.machine, path).map_err(|errno| read_error(path, errno))
    }

    fn lint(&self, args: &[String]) -> Result<Output, String> {
        let opts = options(args)?;
        if opts.output.is_some() {
            return Err("-o is not used with -lint.".into());
        }
        if opts.extension.is_some() {
            return Err("-e is not used with -lint.".into());
        }
        let mut out = Output::ok("");
        for path in &opts.paths {
            let result = self.read(path).and_then(|bytes| parse_plist(&bytes));
            match result {
                Ok(_) if opts.silent => {}
                Ok(_) => out.stdout.push_str(&format!("{}: OK\n", shown(path))),
                Err(reason) => {
                    out.stdout.push_str(&format!("{}: {reason}\n", shown(path)));
                    out.status = 1;
                }
            }
        }
        Ok(out)
    }

    fn print(&self, args: &[String]) -> Result<Output, String> {
        let opts = options(args)?;
        if opts.output.is_some() {
            return Err("-o is not used with -p.".into());
        }
        let mut out = Output::ok("");
        for path in &opts.paths {
            match self.read(path).and_then(|bytes| read_property_list(&bytes)) {
                Ok(value) => {
                    let mut text = String::new();
                    pretty(&value, 2, &mut text);
                    out.stdout.push_str(&text);
                }
                Err(reason) => {
                    out.stdout.push_str(&format!("{}: {reason}\n", shown(path)));
                    out.status = 1;
                }
            }
        }
        Ok(out)
    }

    fn convert(&self, format: Format, args: &[String]) -> Result<Output, String> {
        if format == Format::Raw {
            return Err("Unknown format specifier: raw".into());
        }
        let opts = options(args)?;
        let mut out = Output::ok("");
        for path in &opts.paths {
            let result = self
                .read(path)
                .and_then(|bytes| read_property_list(&bytes))
                .and_then(|value| self.write(&value, path, format, &opts, None, &mut out));
            if let Err(reason) = result {
                out.stdout.push_str(&format!("{}: {reason}\n", shown(path)));
                out.status = 1;
            }
        }
        Ok(out)
    }

    /// `-extract KEYPATH FMT` (`format` set) or `-type KEYPATH` (`format` None).
    fn extract(
        &self,
        key_path: &str,
        format: Option<Format>,
        args: &[String],
    ) -> Result<Output, String> {
        let opts = options(args)?;
        let mut out = Output::ok("");
        for path in &opts.paths {
            let result = self
                .read(path)
                .and_then(|bytes| read_property_list(&bytes))
                .and_then(|root| {
                    let value = value_at(&root, key_path).ok_or_else(|| {
                        format!(
                            "Could not extract value, error: No value at that key path or \
                             invalid key path: {key_path}"
                        )
                    })?;
                    if let Some(expected) = &opts.expect
                        && type_name(value) != expected
                    {
                        return Err(format!(
                            "Value at [{key_path}] expected to be {expected} but is {}",
                            type_name(value)
                        ));
                    }
                    match format {
                        None => {
                            out.stdout.push_str(type_name(value));
                            if !opts.no_newline {
                                out.stdout.push('\n');
                            }
                            Ok(())
                        }
                        Some(format) => {
                            self.write(value, path, format, &opts, Some(key_path), &mut out)
                        }
                    }
                });
            if let Err(reason) = result {
                out.stdout.push_str(&format!("{}: {reason}\n", shown(path)));
                out.status = 1;
            }
        }
        Ok(out)
    }

    /// `writePropertyList`: encode, then stdout (`-o -`, or raw without `-o`), OUT, or the
    /// input path (its extension replaced with `-e`).
    fn write(
        &self,
        value: &Value,
        path: &str,
        format: Format,
        opts: &Options,
        key_path: Option<&str>,
        out: &mut Output,
    ) -> Result<(), String> {
        let bytes: Vec<u8> = match format {
            Format::Xml => xml(value).into_bytes(),
            Format::Binary => {
                let mut buffer = Vec::new();
                value
                    .to_writer_binary(&mut buffer)
                    .map_err(|_| "Invalid object in plist for property list format".to_string())?;
                buffer
            }
            Format::Json => json(value, opts.readable)?.into_bytes(),
            Format::Raw => {
                let mut text = raw(value).ok_or_else(|| {
                    format!(
                        "Value at {} is a {} type and cannot be extracted in raw format",
                        key_path.unwrap_or("unknown key path"),
                        type_name(value)
                    )
                })?;
                if !opts.no_newline {
                    text.push('\n');
                }
                text.into_bytes()
            }
        };
        let destination = match (&opts.output, format) {
            (Some(output), _) => output.clone(),
            (None, Format::Raw) => "-".to_string(),
            (None, _) => with_extension(path, opts.extension.as_deref()),
        };
        if destination == "-" {
            out.stdout.push_str(&String::from_utf8_lossy(&bytes));
            return Ok(());
        }
        files::write_mac_file(self.machine, &destination, &bytes)
            .map_err(|errno| format!("failed to write {destination}: {}", errno.text()))
    }
}

/// plutil's `fixPath`: `-e` replaces an existing extension.
fn with_extension(path: &str, extension: Option<&str>) -> String {
    let Some(extension) = extension else {
        return path.to_string();
    };
    let name_start = path.rfind('/').map_or(0, |at| at + 1);
    match path[name_start..].rfind('.') {
        Some(dot) if dot > 0 => format!("{}{extension}", &path[..name_start + dot + 1]),
        _ => path.to_string(),
    }
}

/// The NSCocoaErrorDomain text for a file that cannot be read.
fn read_error(path: &str, errno: Errno) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (code, reason, posix) = match errno {
        Errno::NoEnt => (260, " because there is no such file", 2),
        Errno::Access => (257, " because you don’t have permission to view it", 13),
        Errno::IsDir => (256, "", 21),
        Errno::NotDir => (256, "", 20),
        Errno::Loop => (256, "", 62),
        _ => (256, "", 5),
    };
    format!(
        "file does not exist or is not readable or is not a regular file (Error \
         Domain=NSCocoaErrorDomain Code={code} \"The file “{name}” couldn’t be opened{reason}.\" \
         UserInfo={{NSFilePath={path}, NSUnderlyingError=0x600001650060 {{Error \
         Domain=NSPOSIXErrorDomain Code={posix} \"{}\"}}}})",
        errno.text()
    )
}

/// NSPropertyListSerialization: binary, XML or old-style. The reason is CF-style.
fn parse_plist(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        return Err("Cannot parse a NULL or zero-length data".into());
    }
    Value::from_reader(Cursor::new(bytes)).map_err(|err| reason(bytes, &err))
}

/// plutil's `readPropertyList`: a property list, else JSON, else both errors.
fn read_property_list(bytes: &[u8]) -> Result<Value, String> {
    match parse_plist(bytes) {
        Ok(value) => Ok(value),
        Err(plist_error) => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(json) => from_json(&json),
            Err(_) => Err(format!(
                "Property List error: {plist_error} / JSON error: JSON text did not start with \
                 array or object and option to allow fragments not set. around line 1, column \
                 0."
            )),
        },
    }
}

fn from_json(json: &serde_json::Value) -> Result<Value, String> {
    Ok(match json {
        serde_json::Value::Null => {
            return Err("Invalid object in plist for property list format".into());
        }
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i.into()),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            Value::Array(items.iter().map(from_json).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(map) => {
            let mut dict = plist::Dictionary::new();
            for (key, value) in map {
                dict.insert(key.clone(), from_json(value)?);
            }
            Value::Dictionary(dict)
        }
    })
}

/// A CoreFoundation-style reason for a parse failure, from our parser's error kind and
/// byte offset (wording UNCONFIRMED beyond the captured `... at line N` shape).
fn reason(bytes: &[u8], err: &plist::Error) -> String {
    let text = err.to_string();
    let offset = text
        .rsplit("offset ")
        .next()
        .and_then(|rest| rest.trim_end_matches(')').parse::<usize>().ok());
    let line = offset
        .map(|at| {
            bytes[..at.min(bytes.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        })
        .unwrap_or(1);
    let kind = text.split([' ', '{', '(']).next().unwrap_or("");
    match kind {
        "UnexpectedEof" | "UnclosedXmlElement" | "UnexpectedEndOfEventStream" => {
            "Encountered unexpected EOF".to_string()
        }
        "UnknownXmlElement" => format!("Encountered unknown tag on line {line}"),
        "UnexpectedEventType" if text.contains("DictionaryKeyOrEndCollection") => {
            format!("Found non-key inside <dict> at line {line}")
        }
        "UnexpectedEventType" => format!("Value missing for key inside <dict> at line {line}"),
        "InvalidIntegerString" => format!("Encountered misformatted integer on line {line}"),
        "InvalidRealString" => format!("Encountered misformatted real on line {line}"),
        "InvalidDateString" => format!("Could not interpret <date> at line {line}"),
        "InvalidDataString" => format!("Could not interpret <data> at line {line}"),
        _ => {
            let first = bytes
                .iter()
                .map(|b| *b as char)
                .find(|c| !c.is_whitespace())
                .unwrap_or(' ');
            format!("Unexpected character {first} at line {line}")
        }
    }
}

/// KVC key path with plutil's extension: a number indexes an array.
fn value_at<'a>(root: &'a Value, key_path: &str) -> Option<&'a Value> {
    let mut value = root;
    for part in key_path.split('.') {
        value = match value {
            Value::Dictionary(dict) => dict.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Boolean(_) => "bool",
        Value::Integer(_) | Value::Uid(_) => "integer",
        Value::Real(_) => "float",
        Value::String(_) => "string",
        Value::Date(_) => "date",
        Value::Data(_) => "data",
        Value::Dictionary(_) => "dictionary",
        Value::Array(_) => "array",
        _ => "(any)",
    }
}

/// plutil's sort for dictionary keys: case-insensitive, numeric.
fn sorted_keys(dict: &plist::Dictionary) -> Vec<&String> {
    let mut keys: Vec<&String> = dict.keys().collect();
    keys.sort_by(|a, b| natural_key(a).cmp(&natural_key(b)).then_with(|| a.cmp(b)));
    keys
}

/// A key for case-insensitive comparison with digit runs compared as numbers.
fn natural_key(text: &str) -> Vec<(u8, u128, String)> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            parts.push((
                0,
                digits.parse::<u128>().unwrap_or(u128::MAX),
                String::new(),
            ));
        } else {
            parts.push((1, 0, c.to_lowercase().collect()));
        }
    }
    parts
}

/// `rawStringWithPropertyList`.
fn raw(value: &Value) -> Option<String> {
    Some(match value {
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Uid(uid) => uid.get().to_string(),
        Value::Real(r) => format!("{r:.6}"),
        Value::String(s) => s.clone(),
        Value::Date(date) => date.to_xml_format(),
        Value::Data(bytes) => base64(bytes),
        Value::Array(items) => items.len().to_string(),
        Value::Dictionary(dict) => sorted_keys(dict)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    })
}

/// CoreFoundation's XML: the `defaults export` writer for dictionaries (tabs, sorted keys).
fn xml(value: &Value) -> String {
    if let Value::Dictionary(dict) = value {
        return defaults::xml_document(dict);
    }
    let mut buffer = Vec::new();
    let _ = value.to_writer_xml(&mut buffer);
    let mut text = String::from_utf8_lossy(&buffer).into_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// NSJSONSerialization output (fragments allowed).
fn json(value: &Value, readable: bool) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, readable, 0, &mut out)?;
    Ok(out)
}

fn write_json(value: &Value, readable: bool, depth: usize, out: &mut String) -> Result<(), String> {
    let invalid = || "Invalid object in plist for destination format".to_string();
    let pad = |depth: usize| "  ".repeat(depth);
    match value {
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Real(r) if r.is_finite() => out.push_str(&json_number(*r)),
        Value::String(s) => json_string(s, out),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                if readable {
                    let _ = write!(out, "\n{}", pad(depth + 1));
                }
                write_json(item, readable, depth + 1, out)?;
            }
            if readable {
                let _ = write!(out, "\n{}", pad(depth));
            }
            out.push(']');
        }
        Value::Dictionary(dict) if dict.is_empty() => out.push_str("{}"),
        Value::Dictionary(dict) => {
            let keys: Vec<&String> = if readable {
                let mut keys: Vec<&String> = dict.keys().collect();
                keys.sort();
                keys
            } else {
                dict.keys().collect()
            };
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                if readable {
                    let _ = write!(out, "\n{}", pad(depth + 1));
                }
                json_string(key, out);
                out.push_str(if readable { " : " } else { ":" });
                write_json(&dict[key], readable, depth + 1, out)?;
            }
            if readable {
                let _ = write!(out, "\n{}", pad(depth));
            }
            out.push('}');
        }
        _ => return Err(invalid()),
    }
    Ok(())
}

fn json_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A JSON string as NSJSONSerialization writes it: `"`, `\` and `/` escaped, control
/// characters as `\n`-style or `\u00XX` escapes, everything else as UTF-8.
fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// plutil's `prettyPrint`.
fn pretty(value: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match value {
        Value::Dictionary(dict) => {
            out.push_str("{\n");
            for key in sorted_keys(dict) {
                let _ = write!(out, "{}\"{key}\" => ", pad(indent));
                pretty(&dict[key], indent + 2, out);
            }
            let _ = writeln!(out, "{}}}", pad(indent - 2));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (index, item) in items.iter().enumerate() {
                let _ = write!(out, "{}{index} => ", pad(indent));
                pretty(item, indent + 2, out);
            }
            let _ = writeln!(out, "{}]", pad(indent - 2));
        }
        Value::String(s) => {
            let _ = writeln!(out, "\"{s}\"");
        }
        Value::Data(bytes) => {
            let hex = |range: &[u8]| range.iter().map(|b| format!("{b:x}")).collect::<String>();
            let body = if bytes.len() > 24 {
                format!(
                    "{}... {}",
                    hex(&bytes[..16]),
                    hex(&bytes[bytes.len() - 8..])
                )
            } else {
                hex(bytes)
            };
            let _ = writeln!(out, "{{length = {}, bytes = 0x{body}}}", bytes.len());
        }
        Value::Date(date) => {
            let _ = writeln!(out, "{}", date_description(date));
        }
        Value::Boolean(b) => {
            let _ = writeln!(out, "{b}");
        }
        Value::Integer(i) => {
            let _ = writeln!(out, "{i}");
        }
        Value::Real(r) => {
            let _ = writeln!(out, "{}", json_number(*r));
        }
        Value::Uid(uid) => {
            let _ = writeln!(out, "{}", uid.get());
        }
        _ => out.push('\n'),
    }
}

/// `Date.description`: `2024-01-02 03:04:05 +0000`.
fn date_description(date: &plist::Date) -> String {
    let xml = date.to_xml_format();
    xml.trim_end_matches('Z').replace('T', " ") + " +0000"
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour, each naming its source (Apple's plutil in
    //! swift-foundation, and the captures cited in the module comment).

    use super::*;
    use crate::testing::{args, mac};

    const PLIST: &str = "/Users/admin/Library/LaunchAgents/homebrew.mxcl.ollama.plist";

    fn plutil(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    fn put(machine: &Machine, path: &str, text: &str) {
        let out = files::run(machine, "tee", &args(&[path]), text.as_bytes());
        assert_eq!(out.status, 0, "{}", out.stderr);
    }

    fn agent() -> String {
        let mut env = plist::Dictionary::new();
        env.insert("OLLAMA_HOST".into(), "0.0.0.0:11434".into());
        env.insert("OLLAMA_MODELS".into(), "/Users/admin/models.noindex".into());
        let mut dict = plist::Dictionary::new();
        dict.insert("Label".into(), "homebrew.mxcl.ollama".into());
        dict.insert("RunAtLoad".into(), Value::Boolean(true));
        dict.insert("Nice".into(), Value::Integer((-5).into()));
        dict.insert(
            "ProgramArguments".into(),
            Value::Array(vec!["/opt/homebrew/bin/ollama".into(), "serve".into()]),
        );
        dict.insert("EnvironmentVariables".into(), Value::Dictionary(env));
        defaults::xml_document(&dict)
    }

    /// `PATH: OK` per readable file, status 0; `-s` silent (rust-plist#165 capture).
    #[test]
    fn lint_ok() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, PLIST, &agent());
        let out = plutil(&m, &["-lint", PLIST]);
        assert_eq!(
            (out.status, out.stdout.clone(), out.stderr.as_str()),
            (0, format!("{PLIST}: OK\n"), "")
        );
        assert_eq!(
            plutil(&m, &[PLIST]).stdout,
            out.stdout,
            "-lint is the default"
        );
        assert_eq!(plutil(&m, &["-lint", "-s", PLIST]).stdout, "");
        let out = run_with_stdin(&m, &args(&["-lint", "-"]), agent().as_bytes());
        assert_eq!(out.stdout, "<stdin>: OK\n");
    }

    /// A broken plist: `PATH: REASON at line N` on stdout, status 1 (vim-syntastic#1050:
    /// `Value missing for key inside <dict> at line 24`); other files still checked.
    #[test]
    fn lint_reports_broken_files() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let broken = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n\
                      <dict>\n\t<key>Label</key>\n</dict>\n</plist>\n";
        put(&m, "/Users/admin/broken.plist", broken);
        put(&m, PLIST, &agent());
        let out = plutil(&m, &["-lint", "/Users/admin/broken.plist", PLIST]);
        assert_eq!(out.status, 1);
        let first = out.stdout.lines().next().unwrap();
        assert!(first.starts_with("/Users/admin/broken.plist: "), "{first}");
        assert!(first.contains(" at line "), "{first}");
        assert!(out.stdout.ends_with(&format!("{PLIST}: OK\n")));
    }

    /// A missing file: the NSCocoaErrorDomain text plutil prints (shape of a captured
    /// Code=257 message), status 1.
    #[test]
    fn missing_file() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = plutil(&m, &["-lint", "/Users/admin/none.plist"]);
        assert_eq!(out.status, 1);
        assert_eq!(
            out.stdout,
            "/Users/admin/none.plist: file does not exist or is not readable or is not a \
             regular file (Error Domain=NSCocoaErrorDomain Code=260 \"The file “none.plist” \
             couldn’t be opened because there is no such file.\" \
             UserInfo={NSFilePath=/Users/admin/none.plist, NSUnderlyingError=0x600001650060 \
             {Error Domain=NSPOSIXErrorDomain Code=2 \"No such file or directory\"}})\n"
        );
    }

    /// `-extract KEYPATH json -o - PATH` (typed reads): NSJSONSerialization text, no
    /// trailing newline, `/` escaped; scalars as fragments; a missing key is plutil's
    /// message on stdout and status 1.
    #[test]
    fn extract_json_for_typed_reads() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, PLIST, &agent());
        let json = |key: &str| plutil(&m, &["-extract", key, "json", "-o", "-", PLIST]);
        assert_eq!(json("RunAtLoad").stdout, "true");
        assert_eq!(json("Nice").stdout, "-5");
        assert_eq!(json("Label").stdout, "\"homebrew.mxcl.ollama\"");
        assert_eq!(
            json("ProgramArguments").stdout,
            "[\"\\/opt\\/homebrew\\/bin\\/ollama\",\"serve\"]"
        );
        assert_eq!(json("ProgramArguments.1").stdout, "\"serve\"");
        assert_eq!(
            json("EnvironmentVariables").stdout,
            "{\"OLLAMA_HOST\":\"0.0.0.0:11434\",\"OLLAMA_MODELS\":\"\\/Users\\/admin\\/models.noindex\"}"
        );
        let out = json("KeepAlive");
        assert_eq!(
            (out.status, out.stdout.clone()),
            (
                1,
                format!(
                    "{PLIST}: Could not extract value, error: No value at that key path or \
                     invalid key path: KeepAlive\n"
                )
            )
        );
        let out = plutil(
            &m,
            &[
                "-extract", "Nice", "json", "-expect", "string", "-o", "-", PLIST,
            ],
        );
        assert_eq!(
            out.stdout,
            format!("{PLIST}: Value at [Nice] expected to be string but is integer\n")
        );
    }

    /// `-extract KEYPATH raw`: to stdout without `-o`, with a newline unless `-n`; bools
    /// `true`/`false`, dictionaries their sorted keys, arrays their count.
    #[test]
    fn extract_raw() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, PLIST, &agent());
        let raw = |key: &str| plutil(&m, &["-extract", key, "raw", PLIST]).stdout;
        assert_eq!(raw("Label"), "homebrew.mxcl.ollama\n");
        assert_eq!(raw("RunAtLoad"), "true\n");
        assert_eq!(raw("ProgramArguments"), "2\n");
        assert_eq!(raw("EnvironmentVariables"), "OLLAMA_HOST\nOLLAMA_MODELS\n");
        let out = plutil(&m, &["-extract", "Nice", "raw", "-n", PLIST]);
        assert_eq!(out.stdout, "-5");
        assert_eq!(plutil(&m, &["-type", "Nice", PLIST]).stdout, "integer\n");
        assert_eq!(plutil(&m, &["-type", "RunAtLoad", PLIST]).stdout, "bool\n");
    }

    /// `-convert`: in place, or to `-o`; JSON compact or `-r` pretty with sorted keys;
    /// binary and back keeps the value.
    #[test]
    fn convert_formats() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, "/Users/admin/a.plist", &agent());
        let out = plutil(
            &m,
            &["-convert", "json", "-r", "-o", "-", "/Users/admin/a.plist"],
        );
        assert!(
            out.stdout
                .starts_with("{\n  \"EnvironmentVariables\" : {\n    \"OLLAMA_HOST\" : ")
        );
        assert!(out.stdout.ends_with("\n  \"RunAtLoad\" : true\n}"));
        assert_eq!(
            plutil(&m, &["-convert", "binary1", "/Users/admin/a.plist"]).stdout,
            ""
        );
        let bytes = files::read_mac_file(&m, "/Users/admin/a.plist").unwrap();
        assert!(bytes.starts_with(b"bplist00"));
        assert_eq!(plutil(&m, &["-lint", "/Users/admin/a.plist"]).status, 0);
        assert_eq!(
            plutil(&m, &["-convert", "xml1", "/Users/admin/a.plist"]).status,
            0
        );
        let xml = files::read_mac_file(&m, "/Users/admin/a.plist").unwrap();
        assert_eq!(String::from_utf8(xml).unwrap(), agent());
        put(&m, "/Users/admin/b.json", "{\"k\": [1, 2.5, \"x\"]}");
        let out = plutil(&m, &["-convert", "xml1", "-o", "-", "/Users/admin/b.json"]);
        assert!(
            out.stdout
                .contains("<key>k</key>\n\t<array>\n\t\t<integer>1</integer>\n")
        );
        put(&m, "/Users/admin/c.txt", "not { a plist");
        let out = plutil(&m, &["-convert", "json", "/Users/admin/c.txt"]);
        assert_eq!(out.status, 1);
        assert!(out.stdout.contains(": Property List error: "));
        assert!(out.stdout.contains(" / JSON error: "));
        let out = plutil(&m, &["-convert", "yaml", "/Users/admin/c.txt"]);
        assert_eq!(out.stdout, "Unknown format specifier: yaml\n");
    }

    /// `-p`: `{`, `  "key" => value` sorted case-insensitively, `}`.
    #[test]
    fn print_human_readable() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, PLIST, &agent());
        let out = plutil(&m, &["-p", PLIST]);
        assert_eq!(
            out.stdout,
            "{\n  \"EnvironmentVariables\" => {\n    \"OLLAMA_HOST\" => \"0.0.0.0:11434\"\n    \
             \"OLLAMA_MODELS\" => \"/Users/admin/models.noindex\"\n  }\n  \"Label\" => \
             \"homebrew.mxcl.ollama\"\n  \"Nice\" => -5\n  \"ProgramArguments\" => [\n    \
             0 => \"/opt/homebrew/bin/ollama\"\n    1 => \"serve\"\n  ]\n  \"RunAtLoad\" => \
             true\n}\n"
        );
    }

    /// Paths are Mac paths resolved inside the sandbox, through symlinks; writes obey the
    /// same rules as the file tools (/Library needs root).
    #[test]
    fn paths_follow_sandbox_rules() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        put(&m, PLIST, &agent());
        files::run(
            &m,
            "ln",
            &args(&["-s", PLIST, "/Users/admin/link.plist"]),
            b"",
        );
        let out = plutil(&m, &["-extract", "Label", "raw", "/Users/admin/link.plist"]);
        assert_eq!(out.stdout, "homebrew.mxcl.ollama\n");
        let out = plutil(&m, &["-convert", "xml1", "-o", "/Library/x.plist", PLIST]);
        assert_eq!(out.status, 1);
        assert!(
            out.stdout.ends_with("Permission denied\n"),
            "{}",
            out.stdout
        );
    }
}
