//! Emulated `defaults`: the verbs, output formats, exit codes and error texts of macOS's
//! `defaults(1)`, over the preference files that [`Machine`] keeps.
//!
//! Evidence, in order of weight (reference/macos-commands.md, "How to read the confidence
//! marks"): real captures (`fixtures/macos/defaults-*`), then the reference's notes, then
//! ProcursusTeam/defaults (an open-source re-implementation whose messages copy Apple's;
//! cited as "reimpl" with its file). Where all of them are silent the choice is marked
//! UNCONFIRMED next to the code, so it is easy to find and change.

use super::libc::base64;
use super::machine::{Machine, Scope};
use super::nslog;
use crate::output::Output;
use plist::{Dictionary, Value};
use std::fmt::Write as _;
use std::io::Cursor;

const PROGRAM: &str = "defaults";

/// The name machine.rs stores the global domain under (`.GlobalPreferences.plist`).
const GLOBAL_DOMAIN: &str = "NSGlobalDomain";

/// Reference 1.2; reimpl `defaults.m` also accepts "Apple Global Domain".
const GLOBAL_ALIASES: &[&str] = &["-g", "-globalDomain", GLOBAL_DOMAIN, "Apple Global Domain"];

/// A failed step already carries the program's whole answer (status, stdout, stderr).
type Step<T> = Result<T, Output>;

/// Runs `defaults ARGS` (without the program name) on `machine`.
pub fn run(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    let (scope, args) = host_option(args);
    let Some((verb, rest)) = args.split_first() else {
        // reimpl `defaults.m`: no arguments prints the usage and exits 255.
        return usage(255);
    };
    let defaults = Defaults { machine, scope };
    // reimpl `defaults.m` lowercases the verb (`defaults READ` works).
    let verb = verb.to_lowercase();
    let outcome = match verb.as_str() {
        "help" => Ok(usage(0)),
        "domains" => Ok(defaults.domains()),
        "read" if rest.is_empty() => Ok(defaults.read_all()),
        "find" => defaults.find(rest),
        _ => defaults.domain_verb(&verb, rest, stdin),
    };
    outcome.unwrap_or_else(|output| output)
}

/// `-currentHost`, or `-host NAME` (treated as the current host: the emulated Mac is the
/// only host there is), must come first (reimpl `defaults.m`).
fn host_option(args: &[String]) -> (Scope, &[String]) {
    match args {
        [flag, rest @ ..] if flag == "-currentHost" => (Scope::CurrentHost, rest),
        [flag, _host, rest @ ..] if flag == "-host" => (Scope::CurrentHost, rest),
        _ => (Scope::User, args),
    }
}

/// The text a person gets from `defaults help`, on stdout (reimpl `helpers.m` `usage()`, which
/// the reference quotes in 1.1; its Procursus-only `-container` lines are left out).
/// Verbatim identity with Apple's text is UNCONFIRMED (reference 1.1).
const USAGE: &str = "\
Command line interface to a user's defaults.
Syntax:

'defaults' [-currentHost | -host <hostname>] followed by one of the following:

  read                                 shows all defaults
  read <domain>                        shows defaults for given domain
  read <domain> <key>                  shows defaults for given domain, key

  read-type <domain> <key>             shows the type for the given domain, key

  write <domain> <domain_rep>          writes domain (overwrites existing)
  write <domain> <key> <value>         writes key for domain

  rename <domain> <old_key> <new_key>  renames old_key to new_key

  delete <domain>                      deletes domain
  delete <domain> <key>                deletes key in domain

  import <domain> <path to plist>      writes the plist at path to domain
  import <domain> -                    writes a plist from stdin to domain
  export <domain> <path to plist>      saves domain as a binary plist to path
  export <domain> -                    writes domain as an xml plist to stdout
  domains                              lists all domains
  find <word>                          lists all entries containing word
  help                                 print this help

<domain> is ( <domain_name> | -app <application_name> | -globalDomain )
         or a path to a file omitting the '.plist' extension

<value> is one of:
  <value_rep>
  -string <string_value>
  -data <hex_digits>
  -int[eger] <integer_value>
  -float  <floating-point_value>
  -bool[ean] (true | false | yes | no)
  -date <date_rep>
  -array <value1> <value2> ...
  -array-add <value1> <value2> ...
  -dict <key1> <value1> <key2> <value2> ...
  -dict-add <key1> <value1> ...
";

/// The usage text on stdout with `status`: 0 for `help`, 255 for a malformed command line,
/// 1 for a bad `-bool`/`-date` value (reimpl `defaults.m`, `helpers.m`; reference 1.1 marks
/// Apple's 255 UNCONFIRMED).
fn usage(status: i32) -> Output {
    Output {
        status,
        stdout: USAGE.to_string(),
        stderr: String::new(),
    }
}

/// An NSLog'd error and exit status 1, the shape of every `defaults` failure.
fn fail(message: &str) -> Output {
    Output::failed(1, nslog::nslog(PROGRAM, message))
}

/// A domain as the command line named it.
struct Domain {
    /// What machine.rs stores it under.
    name: String,
    /// How messages name it: reimpl's `appid`, i.e. the domain as typed (modern releases echo
    /// it: `defaults-read-missing-key.txt`), except a sandboxed app's domain that resolved to
    /// its container, named by the container path ([`Machine::container_domain`]), and the
    /// global domain, which real captures
    /// show as `kCFPreferencesAnyApplication` ("The domain/default pair of
    /// (kCFPreferencesAnyApplication, AppleInterfaceStyle) does not exist", quoted from
    /// `defaults read -g` runs in 2015 and 2022 in public code; reimpl passes the same
    /// CFPreferences constant).
    shown: String,
    /// reimpl `helpers.m` `prettyName()`: "Apple Global Domain" for the global domain; used by
    /// the write-failure and rename messages.
    pretty: String,
}

impl Domain {
    /// Splits the domain off the arguments after the verb.
    fn parse(args: &[String]) -> Step<(Domain, &[String])> {
        match args {
            [] => Err(usage(255)),
            // The emulated Mac has no applications to look up (reimpl `defaults.m` message).
            [flag, app, ..] if flag == "-app" => Err(fail(&format!(
                "Couldn't find an application named \"{app}\"; defaults unchanged"
            ))),
            [name, rest @ ..] if GLOBAL_ALIASES.contains(&name.as_str()) => {
                Ok((Domain::global(), rest))
            }
            [name, rest @ ..] => Ok((Domain::named(name), rest)),
        }
    }

    fn global() -> Domain {
        Domain {
            name: GLOBAL_DOMAIN.to_string(),
            shown: "kCFPreferencesAnyApplication".to_string(),
            pretty: "Apple Global Domain".to_string(),
        }
    }

    fn named(name: &str) -> Domain {
        Domain {
            name: name.to_string(),
            shown: name.to_string(),
            pretty: name.to_string(),
        }
    }
}

/// Missing key (or missing domain when a key was asked for): reference 1.4, [capture]
/// `defaults-read-missing-key.txt`.
fn missing_pair(domain: &Domain, key: &str) -> Output {
    fail(&format!(
        "\nThe domain/default pair of ({}, {key}) does not exist\n",
        domain.shown
    ))
}

struct Defaults<'a> {
    machine: &'a Machine,
    scope: Scope,
}

impl Defaults<'_> {
    fn domain_verb(&self, verb: &str, args: &[String], stdin: &[u8]) -> Step<Output> {
        const VERBS: &[&str] = &[
            "read",
            "read-type",
            "write",
            "delete",
            "remove",
            "rename",
            "export",
            "import",
        ];
        if !VERBS.contains(&verb) {
            return Err(usage(255));
        }
        let (mut domain, rest) = Domain::parse(args)?;
        if let Some(path) = self.machine.container_domain(&self.scope, &domain.name) {
            domain.shown = path;
        }
        match verb {
            "read" => self.read(&domain, rest),
            "read-type" => self.read_type(&domain, rest),
            "write" => self.write(&domain, rest).map(|()| Output::ok("")),
            // `remove` is an undocumented alias (reimpl `defaults.m`).
            "delete" | "remove" => self.delete(&domain, rest),
            "rename" => self.rename(&domain, rest),
            "export" => self.export(&domain, rest),
            _ => self.import(&domain, rest, stdin),
        }
    }

    /// The domain's keys; empty when it has no file. An unreadable file counts as absent, as
    /// cfprefsd treats a corrupt plist.
    fn load(&self, domain: &Domain) -> Dictionary {
        self.machine
            .load_domain(&self.scope, &domain.name)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Writes the domain, or says why not. System domains (`/Library/...`) need root; the
    /// refusal text is [capture] `defaults-write-could-not-write-domain.txt`.
    fn save(&self, domain: &Domain, dict: &Dictionary) -> Step<()> {
        if self.store(domain, dict) {
            Ok(())
        } else {
            Err(fail(&format!(
                "Could not write domain {}; exiting",
                domain.pretty
            )))
        }
    }

    fn store(&self, domain: &Domain, dict: &Dictionary) -> bool {
        self.machine.may_write(&domain.name)
            && self
                .machine
                .save_domain(&self.scope, &domain.name, dict)
                .is_ok()
    }

    /// Every domain with keys, global first, under reimpl's pretty names.
    fn all_domains(&self) -> Vec<(String, Dictionary)> {
        let mut names = vec![Domain::global()];
        names.extend(
            self.machine
                .domains(&self.scope)
                .unwrap_or_default()
                .iter()
                .map(|name| Domain::named(name)),
        );
        names
            .into_iter()
            .map(|domain| (self.load(&domain), domain.pretty))
            .filter(|(dict, _)| !dict.is_empty())
            .map(|(dict, pretty)| (pretty, dict))
            .collect()
    }

    /// `defaults domains`: one line, sorted, joined by ", ", global domain dropped
    /// (reference 1.2; reimpl `defaults.m`).
    fn domains(&self) -> Output {
        let names = self.machine.domains(&self.scope).unwrap_or_default();
        Output::ok(format!("{}\n", names.join(", ")))
    }

    /// `defaults read` with no domain: one dictionary of every domain by pretty name
    /// (reimpl `defaults.m`; Apple's layout UNCONFIRMED).
    fn read_all(&self) -> Output {
        let all: Dictionary = self
            .all_domains()
            .into_iter()
            .map(|(name, dict)| (name, Value::Dictionary(dict)))
            .collect();
        Output::ok(describe(&Value::Dictionary(all)) + "\n")
    }

    /// `defaults read DOMAIN [KEY]` (reference 1.3, 1.4).
    fn read(&self, domain: &Domain, rest: &[String]) -> Step<Output> {
        let dict = self.load(domain);
        let Some(key) = rest.first() else {
            if dict.is_empty() {
                // A domain with zero keys also "does not exist" (reference 1.4).
                return Err(fail(&format!("\nDomain {} does not exist\n", domain.shown)));
            }
            return Ok(Output::ok(describe(&Value::Dictionary(dict)) + "\n"));
        };
        match dict.get(key) {
            Some(value) => Ok(Output::ok(describe(value) + "\n")),
            None => Err(missing_pair(domain, key)),
        }
    }

    /// `defaults read-type DOMAIN KEY` (reference 1.5; missing key or domain: the pair
    /// message, reimpl `defaults.m`).
    fn read_type(&self, domain: &Domain, rest: &[String]) -> Step<Output> {
        let Some(key) = rest.first() else {
            return Err(usage(255));
        };
        match self.load(domain).get(key) {
            Some(value) => Ok(Output::ok(type_line(value))),
            None => Err(missing_pair(domain, key)),
        }
    }

    /// `defaults find WORD` (reimpl `defaults.m`): counts case-insensitive matches in each
    /// domain's name, keys and string values. Apple's text is UNCONFIRMED.
    fn find(&self, args: &[String]) -> Step<Output> {
        let Some(word) = args.first() else {
            return Err(usage(255));
        };
        let needle = word.to_lowercase();
        let mut stdout = String::new();
        for (name, dict) in self.all_domains() {
            let found = usize::from(name.to_lowercase().contains(&needle))
                + dict_words(&dict)
                    .iter()
                    .filter(|word| word.to_lowercase().contains(&needle))
                    .count();
            if found > 0 {
                let text = describe(&Value::Dictionary(dict));
                let _ = writeln!(stdout, "Found {found} keys in domain '{name}': {text}");
            }
        }
        if stdout.is_empty() {
            let message = format!("No domain, key, nor value containing '{word}'");
            return Ok(Output {
                status: 0,
                stdout,
                stderr: nslog::nslog(PROGRAM, &message),
            });
        }
        Ok(Output::ok(stdout))
    }

    /// `defaults delete DOMAIN [KEY]` (reference 1.7).
    fn delete(&self, domain: &Domain, rest: &[String]) -> Step<Output> {
        let mut dict = self.load(domain);
        // reimpl `defaults.m` prints the *domain* message for a missing key too; Apple's text
        // for that case is UNCONFIRMED (reference 1.7).
        let not_found = || {
            fail(&format!(
                "\nDomain ({}) not found.\nDefaults have not been changed.\n",
                domain.shown
            ))
        };
        let removed = match rest {
            [] if dict.is_empty() => return Err(not_found()),
            [] => Dictionary::new(),
            [key] if dict.remove(key).is_none() => return Err(not_found()),
            [_] => dict,
            _ => return Err(usage(255)),
        };
        // reimpl `defaults.m` exits 1 without a message when the write fails (`ret ? 0 : 1`).
        if self.store(domain, &removed) {
            Ok(Output::ok(""))
        } else {
            Err(Output::failed(1, ""))
        }
    }

    /// `defaults rename DOMAIN OLD NEW` (reimpl `defaults.m`; messages UNCONFIRMED for
    /// Apple, reference 1.7). Like reimpl it sets NEW before removing OLD.
    fn rename(&self, domain: &Domain, rest: &[String]) -> Step<Output> {
        let [old, new] = rest else {
            return Err(usage(255));
        };
        let mut dict = self.load(domain);
        let Some(value) = dict.get(old).cloned() else {
            return Err(fail(&format!(
                "Key {old} does not exist in domain {}; leaving defaults unchanged",
                domain.pretty
            )));
        };
        dict.insert(new.clone(), value);
        dict.remove(old);
        if !self.store(domain, &dict) {
            return Err(fail(&format!("Failed to write domain {}", domain.pretty)));
        }
        Ok(Output::ok(""))
    }

    /// `defaults export DOMAIN -` (XML on stdout) or `DOMAIN PATH` (binary plist file);
    /// reference 1.8. A missing domain fails with reimpl's message and exit 1: Apple's
    /// behaviour is UNCONFIRMED (reference 1.8; no public capture found), and a failure is
    /// the answer that lets callers tell "absent" from "empty".
    fn export(&self, domain: &Domain, rest: &[String]) -> Step<Output> {
        let Some(target) = rest.first() else {
            return Err(fail("\nNeed a path to write to"));
        };
        let dict = self.load(domain);
        if dict.is_empty() {
            return Err(fail(&format!(
                "\nThe domain {} does not exist\n",
                domain.shown
            )));
        }
        if target == "-" {
            return Ok(Output::ok(xml_document(&dict)));
        }
        Value::Dictionary(dict)
            .to_file_binary(target)
            .map(|()| Output::ok(""))
            .map_err(|err| {
                fail(&format!(
                    "Could not export domain {} to {target} due to {err}",
                    domain.shown
                ))
            })
    }

    /// `defaults import DOMAIN -|PATH`. The plist's keys are set one by one and other keys
    /// stay, as reimpl `defaults.m` does and reference 1.8 describes ("merges/overwrites
    /// keys from the plist"); whether Apple's import also drops other keys is UNCONFIRMED.
    fn import(&self, domain: &Domain, rest: &[String], stdin: &[u8]) -> Step<Output> {
        let Some(source) = rest.first() else {
            return Err(fail("\nNeed a path to read from"));
        };
        let bytes = if source == "-" {
            stdin.to_vec()
        } else {
            std::fs::read(source)
                .map_err(|_| fail(&format!("Could not read data from {source}")))?
        };
        // The parse-error text after "due to" is Apple's NSError description, which the
        // emulator cannot reproduce: UNCONFIRMED.
        let value = parse_plist_bytes(&bytes).map_err(|err| {
            fail(&format!(
                "Could not parse property list from {source} due to {err}"
            ))
        })?;
        let Value::Dictionary(imported) = value else {
            return Err(fail(&format!(
                "Property list {} was not a dictionary\nDefaults have not been changed.\n",
                describe(&value)
            )));
        };
        let mut dict = self.load(domain);
        dict.extend(imported);
        self.save(domain, &dict)?;
        Ok(Output::ok(""))
    }

    /// `defaults write DOMAIN ...` (reference 1.6; argument shapes follow reimpl `write.m`).
    fn write(&self, domain: &Domain, rest: &[String]) -> Step<()> {
        match rest {
            [] => Err(usage(255)),
            [rep] => self.write_domain_rep(domain, rep),
            [key, value] => self.write_single(domain, key, value),
            [key, flag, values @ ..] => self.write_flagged(domain, key, flag, values),
        }
    }

    /// `write DOMAIN 'PLIST'`: the dictionary replaces the whole domain (reference 1.6).
    fn write_domain_rep(&self, domain: &Domain, rep: &str) -> Step<()> {
        match parse_raw_value(rep)? {
            Value::Dictionary(dict) => self.save(domain, &dict),
            _ => Err(fail(
                "\nRep argument is not a dictionary\nDefaults have not been changed.\n",
            )),
        }
    }

    /// `write DOMAIN KEY VALUE` with a single value argument.
    fn write_single(&self, domain: &Domain, key: &str, value: &str) -> Step<()> {
        let new = match value {
            "-array" => Value::Array(Vec::new()),
            "-dict" => Value::Dictionary(Dictionary::new()),
            // Nothing to append: reimpl `write.m` writes nothing and exits 0.
            "-array-add" | "-dict-add" => return Ok(()),
            // A type flag without its value (reimpl `write.m`).
            flag if TypeFlag::from_arg(flag).is_some() => return Err(usage(255)),
            raw => parse_raw_value(raw)?,
        };
        self.set_key(domain, key, new)
    }

    /// `write DOMAIN KEY FLAG VALUE...` (`values` is never empty).
    fn write_flagged(&self, domain: &Domain, key: &str, flag: &str, values: &[String]) -> Step<()> {
        let new = match flag {
            "-array" => Value::Array(parse_array_items(values)?),
            "-array-add" => {
                let mut items = self.existing_array(domain, key)?;
                items.extend(parse_array_items(values)?);
                Value::Array(items)
            }
            "-dict" => Value::Dictionary(parse_dict_items(values)?.into_iter().collect()),
            "-dict-add" => {
                let mut dict = self.existing_dict(domain, key)?;
                dict.extend(parse_dict_items(values)?);
                Value::Dictionary(dict)
            }
            _ => self.scalar_with_extras(flag, values)?,
        };
        self.set_key(domain, key, new)
    }

    /// A typed scalar (`-int 3`) or an untyped value, either followed by arguments that do
    /// not belong: [capture] `defaults-write-unexpected-argument.txt`.
    fn scalar_with_extras(&self, flag: &str, values: &[String]) -> Step<Value> {
        let unexpected = |arg: &str| {
            fail(&format!(
                "Unexpected argument {arg}; leaving defaults unchanged.\n"
            ))
        };
        let Some(flag) = TypeFlag::from_arg(flag) else {
            // An untyped value (`flag`) followed by more: the first extra one is named.
            return Err(unexpected(&values[0]));
        };
        let value = flag.parse(&values[0])?;
        match values.get(1) {
            Some(extra) => Err(unexpected(extra)),
            None => Ok(value),
        }
    }

    /// The array `-array-add` appends to (reimpl `write.m` text, reference 1.6).
    fn existing_array(&self, domain: &Domain, key: &str) -> Step<Vec<Value>> {
        match self.load(domain).remove(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(fail(&format!(
                "Value for key {key} is not an array; cannot append.  Leaving defaults unchanged.\n"
            ))),
        }
    }

    /// The dictionary `-dict-add` adds to (reimpl `write.m` text, reference 1.6).
    fn existing_dict(&self, domain: &Domain, key: &str) -> Step<Dictionary> {
        match self.load(domain).remove(key) {
            None => Ok(Dictionary::new()),
            Some(Value::Dictionary(dict)) => Ok(dict),
            Some(_) => Err(fail(&format!(
                "Value for key {key} is not a dictionary; cannot append.  Leaving defaults unchanged.\n"
            ))),
        }
    }

    fn set_key(&self, domain: &Domain, key: &str, value: Value) -> Step<()> {
        let mut dict = self.load(domain);
        dict.insert(key.to_string(), value);
        self.save(domain, &dict)
    }
}

/// Keys and string values, depth first (reimpl `helpers.m` `flatten()`), for `find`.
fn dict_words(dict: &Dictionary) -> Vec<String> {
    let mut words = Vec::new();
    for (key, value) in dict {
        words.push(key.clone());
        collect_strings(value, &mut words);
    }
    words
}

fn collect_strings(value: &Value, words: &mut Vec<String>) {
    match value {
        Value::String(text) => words.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, words)),
        Value::Dictionary(dict) => words.extend(dict_words(dict)),
        _ => {}
    }
}

/// `read-type`'s answer: `Type is …` in the vocabulary of reference 1.5, or reimpl's line
/// for a value no `defaults write` can make (a keyed-archiver UID).
fn type_line(value: &Value) -> String {
    let name = match value {
        Value::String(_) => "string",
        Value::Data(_) => "data",
        Value::Integer(_) => "integer",
        Value::Real(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::Date(_) => "date",
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        _ => return "Found a value that is not of a known property list type\n".to_string(),
    };
    format!("Type is {name}\n")
}

// ---------------------------------------------------------------------------------------
// Values from the command line
// ---------------------------------------------------------------------------------------

/// A scalar type flag of `defaults write` (reimpl `helpers.m` `isType()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeFlag {
    String,
    Data,
    Integer,
    Float,
    Boolean,
    Date,
}

impl TypeFlag {
    fn from_arg(arg: &str) -> Option<TypeFlag> {
        Some(match arg {
            "-string" => TypeFlag::String,
            "-data" => TypeFlag::Data,
            "-int" | "-integer" => TypeFlag::Integer,
            "-float" => TypeFlag::Float,
            "-bool" | "-boolean" => TypeFlag::Boolean,
            "-date" => TypeFlag::Date,
            _ => return None,
        })
    }

    /// The value `text` stands for under this flag (reimpl `helpers.m` `parseTypedArg()`).
    fn parse(self, text: &str) -> Step<Value> {
        match self {
            TypeFlag::String => Ok(Value::String(text.to_string())),
            TypeFlag::Integer => Ok(Value::Integer(long_long_value(text).into())),
            TypeFlag::Float => Ok(Value::Real(f64::from(float_value(text)))),
            TypeFlag::Boolean => parse_bool(text).map(Value::Boolean).ok_or_else(|| usage(1)),
            TypeFlag::Date => parse_date(text).map(Value::Date).ok_or_else(|| usage(1)),
            // reimpl: odd length or a non-alphanumeric character prints the usage and exits
            // 255; this emulator also refuses letters past `f`.
            TypeFlag::Data => parse_hex(text).map(Value::Data).ok_or_else(|| usage(255)),
        }
    }
}

/// `true|false|yes|no`, any case (reference 1.6; reimpl `caseInsensitiveCompare`).
fn parse_bool(text: &str) -> Option<bool> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

/// NSString `longLongValue`, as reimpl uses for `-int`: leading whitespace, an optional
/// sign, then as many digits as there are; none gives 0 and overflow saturates. Whether
/// Apple also turns `-int abc` into 0 is UNCONFIRMED (reference 1.6).
fn long_long_value(text: &str) -> i64 {
    let text = text.trim_start();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for digit in digits.bytes().take_while(u8::is_ascii_digit) {
        let digit = i64::from(digit - b'0');
        value = value.saturating_mul(10);
        value = if negative {
            value.saturating_sub(digit)
        } else {
            value.saturating_add(digit)
        };
    }
    value
}

/// NSString `floatValue`, as reimpl uses for `-float` (reference 1.6: "[reimpl]
/// `floatValue`"): the longest numeric prefix, in **single** precision, so `-float 0.15`
/// stores 0.15000000596046448. Callers that need an exact double should write
/// `<real>…</real>` as a raw value, as nix-darwin does.
fn float_value(text: &str) -> f32 {
    let text = text.trim_start();
    // Only numbers: Rust would also read `inf` and `nan`, which are not numeric prefixes.
    let unsigned = text.trim_start_matches(['+', '-']);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return 0.0;
    }
    (1..=text.len())
        .rev()
        .filter(|&end| text.is_char_boundary(end))
        .find_map(|end| text[..end].parse().ok())
        .unwrap_or(0.0)
}

/// Even-length hex digits (reference 1.6 `-data <hex>`).
fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    Some(
        digits
            .chunks(2)
            .map(|pair| pair[0] << 4 | pair[1])
            .collect(),
    )
}

/// `-date`: NSDate `dateWithString:` form `YYYY-MM-DD HH:MM:SS ±HHMM` (reference 1.6), also
/// without the zone (Ansible writes `%Y-%m-%d %H:%M:%S`; Apple's natural-language fallback
/// reads it in local time, which on the emulated Mac is UTC), a bare date (midnight), or an
/// XML-plist date `2024-01-02T03:04:05Z`. Other natural-language forms are not emulated.
fn parse_date(text: &str) -> Option<plist::Date> {
    let text = text.trim();
    if let Ok(date) = plist::Date::from_xml_format(text) {
        return Some(date);
    }
    let mut parts = text.split_whitespace();
    let [year, month, day] = numbers::<3>(parts.next()?, '-')?;
    let [hour, minute, second] = match parts.next() {
        Some(time) => numbers::<3>(time, ':')?,
        None => [0, 0, 0],
    };
    let offset = match parts.next() {
        Some(zone) => zone_offset_seconds(zone)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    // `time` refuses what is no real date or time of day (31 April, hour 24), as
    // `defaults` does.
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let time_of_day = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let utc = time::PrimitiveDateTime::new(date, time_of_day).assume_utc()
        - time::Duration::seconds(offset);
    Some(std::time::SystemTime::from(utc).into())
}

/// Exactly `N` unsigned decimal numbers separated by `separator`.
fn numbers<const N: usize>(text: &str, separator: char) -> Option<[i64; N]> {
    let mut out = [0; N];
    let mut parts = text.split(separator);
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// `+HHMM` / `-HHMM` as seconds east of UTC.
fn zone_offset_seconds(zone: &str) -> Option<i64> {
    let (sign, digits) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// `-array` / `-array-add` elements: each may carry its own scalar type flag (reimpl
/// `write.m`; Ansible `_dict_value_to_args`).
fn parse_array_items(items: &[String]) -> Step<Vec<Value>> {
    let mut values = Vec::new();
    let mut i = 0;
    while i < items.len() {
        reject_nested(&items[i])?;
        match TypeFlag::from_arg(&items[i]) {
            Some(flag) => {
                let Some(text) = items.get(i + 1) else {
                    return Err(usage(255));
                };
                values.push(flag.parse(text)?);
                i += 2;
            }
            None => {
                values.push(parse_raw_value(&items[i])?);
                i += 1;
            }
        }
    }
    Ok(values)
}

/// `-dict` / `-dict-add` key/value pairs (reimpl `write.m`, messages included). A key may be
/// preceded by `-string`; any other type flag there is an error.
fn parse_dict_items(items: &[String]) -> Step<Vec<(String, Value)>> {
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < items.len() {
        reject_nested(&items[i])?;
        if let Some(flag) = TypeFlag::from_arg(&items[i]) {
            if flag != TypeFlag::String {
                return Err(if items.len() == 1 {
                    usage(255)
                } else {
                    fail("Dictionary keys must be strings\n")
                });
            }
            i += 1;
        }
        let Some(key) = items.get(i) else {
            return Err(usage(255));
        };
        let (value, used) = parse_dict_value(key, &items[i + 1..])?;
        pairs.push((key.clone(), value));
        i += 1 + used;
    }
    Ok(pairs)
}

/// The value after a `-dict` key, and how many arguments it took.
fn parse_dict_value(key: &str, rest: &[String]) -> Step<(Value, usize)> {
    let Some(first) = rest.first() else {
        return Err(fail(&format!("Key {key} lacks a corresponding value\n")));
    };
    // reimpl only checks key positions for `-array`/`-dict`; a composite as a *value* is
    // refused here too, since it cannot mean anything else (reference 1.6).
    reject_nested(first)?;
    match TypeFlag::from_arg(first) {
        Some(flag) => {
            let Some(text) = rest.get(1) else {
                return Err(usage(255));
            };
            Ok((flag.parse(text)?, 2))
        }
        None => Ok((parse_raw_value(first)?, 1)),
    }
}

/// Reference 1.6 / reimpl `write.m`.
fn reject_nested(arg: &str) -> Step<()> {
    if arg == "-array" || arg == "-dict" {
        return Err(fail(
            "Cannot nest composite types (arrays and dictionaries); exiting",
        ));
    }
    Ok(())
}

/// An untyped value (reference 1.6): text starting with `<` is an XML plist (a whole
/// document, or a bare fragment such as `<integer>1</integer>` or `<dict>…</dict>`:
/// Yannbertrand/macos-defaults#62), text starting with `(` or `{` is an old-style plist, and
/// anything else is stored as the string itself, byte for byte (lwouis/alt-tab-macos#4363:
/// `write … true` stores the string "true"). Unparseable plist text is refused with reimpl's
/// message (`helpers.m` `parsePropertyList()`; UNCONFIRMED for Apple).
fn parse_raw_value(text: &str) -> Step<Value> {
    let parsed = match text.as_bytes().first() {
        Some(b'<') => parse_xml(text).or_else(|| OldStyle::parse(text).ok()),
        Some(b'(' | b'{') => OldStyle::parse(text).ok(),
        _ => return Ok(Value::String(text.to_string())),
    };
    parsed.ok_or_else(|| fail(&format!("Could not parse: {text}.  Try single-quoting it.")))
}

/// An XML plist document, or a fragment wrapped into one.
fn parse_xml(text: &str) -> Option<Value> {
    let head = text.trim_start();
    let document = if ["<?xml", "<!DOCTYPE", "<plist"]
        .iter()
        .any(|start| head.starts_with(start))
    {
        text.to_string()
    } else {
        format!("<plist version=\"1.0\">{text}</plist>")
    };
    Value::from_reader_xml(document.as_bytes()).ok()
}

/// What `import` accepts: binary, XML or old-style plists (NSPropertyListSerialization).
fn parse_plist_bytes(bytes: &[u8]) -> Result<Value, String> {
    if bytes.starts_with(b"bplist") {
        return Value::from_reader(Cursor::new(bytes)).map_err(|err| err.to_string());
    }
    let text = std::str::from_utf8(bytes).map_err(|err| err.to_string())?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return parse_xml(text).ok_or_else(|| "an invalid XML property list".to_string());
    }
    OldStyle::parse(text)
}

/// A parser for old-style (OpenStep) property lists, after CoreFoundation's
/// `CFOldStylePList.c`: quoted and unquoted strings, `( a, b )`, `{ k = v; }`, `<hex>` data,
/// `//` and `/* */` comments. Every scalar is a string, as in the format itself.
struct OldStyle {
    chars: Vec<char>,
    pos: usize,
}

impl OldStyle {
    fn parse(text: &str) -> Result<Value, String> {
        let mut parser = OldStyle {
            chars: text.chars().collect(),
            pos: 0,
        };
        let value = parser.value()?;
        parser.skip_space()?;
        if parser.pos < parser.chars.len() {
            return Err(parser.error("Junk after property list"));
        }
        Ok(value)
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at character {}", self.pos)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn expect(&mut self, wanted: char) -> Result<(), String> {
        self.skip_space()?;
        if self.next() == Some(wanted) {
            Ok(())
        } else {
            Err(self.error(&format!("Expected '{wanted}'")))
        }
    }

    fn skip_space(&mut self) -> Result<(), String> {
        loop {
            match (self.peek(), self.chars.get(self.pos + 1)) {
                (Some(c), _) if c.is_whitespace() => self.pos += 1,
                (Some('/'), Some('/')) => while !matches!(self.next(), None | Some('\n')) {},
                (Some('/'), Some('*')) => self.skip_block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn skip_block_comment(&mut self) -> Result<(), String> {
        self.pos += 2;
        loop {
            match self.next() {
                None => return Err(self.error("Unterminated comment")),
                Some('*') if self.peek() == Some('/') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => {}
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_space()?;
        match self.peek() {
            Some('{') => self.dictionary(),
            Some('(') => self.array(),
            Some('<') => self.data(),
            Some('"' | '\'') => self.quoted().map(Value::String),
            Some(c) if is_unquoted_char(c) => Ok(Value::String(self.unquoted())),
            _ => Err(self.error("Unexpected character")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.value()? {
            Value::String(text) => Ok(text),
            _ => Err(self.error("Dictionary keys must be strings")),
        }
    }

    fn dictionary(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut dict = Dictionary::new();
        loop {
            self.skip_space()?;
            if self.peek() == Some('}') {
                self.pos += 1;
                return Ok(Value::Dictionary(dict));
            }
            let key = self.string()?;
            self.expect('=')?;
            let value = self.value()?;
            self.expect(';')?;
            dict.insert(key, value);
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            if self.peek() == Some(')') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.skip_space()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {}
                _ => return Err(self.error("Expected ',' or ')'")),
            }
        }
    }

    fn data(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut hex = String::new();
        loop {
            match self.next() {
                Some('>') => break,
                Some(c) if c.is_whitespace() => {}
                Some(c) if c.is_ascii_hexdigit() => hex.push(c),
                _ => return Err(self.error("Malformed data")),
            }
        }
        parse_hex(&hex)
            .map(Value::Data)
            .ok_or_else(|| self.error("Odd number of hex digits in data"))
    }

    fn unquoted(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_unquoted_char) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// A quoted string; escapes as CoreFoundation reads them, `\U` taking up to four hex
    /// digits of a UTF-16 unit (pairs combine into one character).
    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.next();
        let mut units: Vec<u16> = Vec::new();
        loop {
            let c = self
                .next()
                .ok_or_else(|| self.error("Unterminated quoted string"))?;
            if Some(c) == quote {
                return Ok(String::from_utf16_lossy(&units));
            }
            if c == '\\' {
                let unit = self.escape()?;
                units.push(unit);
            } else {
                let mut buffer = [0u16; 2];
                units.extend_from_slice(c.encode_utf16(&mut buffer));
            }
        }
    }

    fn escape(&mut self) -> Result<u16, String> {
        let c = self
            .next()
            .ok_or_else(|| self.error("Unterminated quoted string"))?;
        Ok(match c {
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            't' => 9,
            'v' => 11,
            'U' => self.digits(16, 4),
            '0'..='7' => {
                self.pos -= 1;
                self.digits(8, 3)
            }
            other => {
                let mut buffer = [0u16; 2];
                other.encode_utf16(&mut buffer)[0]
            }
        })
    }

    fn digits(&mut self, radix: u32, max: usize) -> u16 {
        let mut value: u32 = 0;
        for _ in 0..max {
            match self.peek().and_then(|c| c.to_digit(radix)) {
                Some(digit) => {
                    value = value * radix + digit;
                    self.pos += 1;
                }
                None => break,
            }
        }
        value as u16
    }
}

/// CoreFoundation's `isValidUnquotedStringCharacter`.
fn is_unquoted_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_$/:.-".contains(c)
}

// ---------------------------------------------------------------------------------------
// `defaults read`: the old-style (NeXTSTEP) description printer
// ---------------------------------------------------------------------------------------

/// What `defaults read` prints for `value` (without the final newline): a collection as an
/// old-style block at column 0, a scalar bare (a string exactly as stored). Reference 1.3.
pub fn describe(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Array(_) | Value::Dictionary(_) => write_collection(value, 0, &mut out),
        scalar => out.push_str(&scalar_text(scalar)),
    }
    out
}

/// NSArray/NSDictionary `descriptionWithLocale:indent:`: a collection at `level` starts with
/// its own indent before the opener, its entries are one level deeper, and a nested
/// collection is written at its entry's level. That is where the odd spacing of
/// [capture] `defaults-read-dock-tahoe-partial.txt` comes from: `"tile-data" =             {`
/// (a space, then the level-3 indent again) and `                {` for a dictionary inside
/// an array (the element indent plus the dictionary's own).
fn write_collection(value: &Value, level: usize, out: &mut String) {
    let indent = "    ".repeat(level);
    let inner = "    ".repeat(level + 1);
    out.push_str(&indent);
    match value {
        Value::Dictionary(dict) => {
            out.push_str("{\n");
            for (key, item) in sorted_entries(dict) {
                let _ = write!(out, "{inner}{} = ", quote_if_needed(key));
                write_nested(item, level + 1, out);
                out.push_str(";\n");
            }
            out.push_str(&indent);
            out.push('}');
        }
        Value::Array(items) => {
            out.push_str("(\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&inner);
                write_nested(item, level + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&indent);
            out.push(')');
        }
        _ => {}
    }
}

fn write_nested(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Array(_) | Value::Dictionary(_) => write_collection(value, level, out),
        Value::Data(_) | Value::Boolean(_) => out.push_str(&scalar_text(value)),
        scalar => out.push_str(&quote_if_needed(&scalar_text(scalar))),
    }
}

/// Keys in the order NSDictionary's description lists them: sorted, as every capture shows
/// (`"mod-count"` after `"minimize-to-application"`, `SUSkippedVersion` before
/// `SelectedCalendars`: byte order, capitals first).
fn sorted_entries(dict: &Dictionary) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = dict.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A scalar's description before any quoting.
fn scalar_text(value: &Value) -> String {
    match value {
        // [capture] `defaults-read-bool-prints-1.txt`.
        Value::Boolean(b) => if *b { "1" } else { "0" }.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => format_g(*r, 16),
        Value::Date(date) => date_text(date),
        Value::Data(bytes) => data_text(bytes),
        Value::String(text) => text.clone(),
        Value::Uid(uid) => format!("{{value = {}}}", uid.get()),
        _ => String::new(),
    }
}

/// Quotes `text` unless it is all ASCII letters and digits. The captures quote `-`, space,
/// `.`, `:`, `/` and `_` (`"_CFURLString"`, `"en_US:US"`, `"771614090.954601"`,
/// `"file:///…"`) and never quote plain words or numbers (`scale`, `208`); the exact safe set
/// beyond that is UNCONFIRMED (reference 1.3), as is the escaping below: `"` and `\` are
/// backslashed, newline/tab/CR use C escapes, and other control or non-ASCII characters are
/// written `\Uxxxx` per UTF-16 unit, the old-style plist form (e.g. `"\U5fae\U4fe1"`;
/// ttscoff/KeyBindings#17 rewrites text into that form to match it).
fn quote_if_needed(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buffer = [0u16; 2];
                for unit in c.encode_utf16(&mut buffer) {
                    let _ = write!(out, "\\U{unit:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// NSNumber's description of a double, C `%0.16g` (the format table of Apple's NSNumber
/// `descriptionWithLocale:` documentation, recalled rather than re-read here). It agrees with
/// every real in the captures: `0.0` prints `0` and 771614090.954601 prints itself
/// (`defaults-read-dock-tahoe-partial.txt`); digits beyond them are UNCONFIRMED.
fn format_g(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{}e{sign}{:02}",
            strip_fraction_zeros(mantissa),
            exponent.unsigned_abs()
        );
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    strip_fraction_zeros(&format!("{value:.decimals$}"))
}

fn strip_fraction_zeros(number: &str) -> String {
    if !number.contains('.') {
        return number.to_string();
    }
    number
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// `YYYY-MM-DD HH:MM:SS +0000` (reference 1.3; [capture] `defaults-read-itsycal-partial.txt`).
fn date_text(date: &plist::Date) -> String {
    let utc = time::OffsetDateTime::from(std::time::SystemTime::from(*date));
    utc.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] +0000"
    ))
    .unwrap_or_default()
}

/// NSData's description. Up to 24 bytes print in full; longer data prints its first 16
/// bytes and last 8 as 4-byte words, each followed by a space, around `... `
/// ([capture] `defaults-read-data-truncated.txt`:
/// `{length = 920, bytes = 0x626f6f6b 98030000 00000410 30000000 ... 38020000 00000000 }`).
/// The 24-byte threshold is read from a decompiled Foundation `-[NSData description]`
/// (`length < 25` prints every byte) found in public code, not from a capture: UNCONFIRMED.
fn data_text(bytes: &[u8]) -> String {
    let mut out = format!("{{length = {}, bytes = 0x", bytes.len());
    if bytes.len() <= 24 {
        bytes.iter().for_each(|b| {
            let _ = write!(out, "{b:02x}");
        });
    } else {
        let words = |part: &[u8], out: &mut String| {
            for word in part.chunks(4) {
                word.iter().for_each(|b| {
                    let _ = write!(out, "{b:02x}");
                });
                out.push(' ');
            }
        };
        words(&bytes[..16], &mut out);
        out.push_str("... ");
        words(&bytes[bytes.len() - 8..], &mut out);
    }
    out.push('}');
    out
}

// ---------------------------------------------------------------------------------------
// `defaults export DOMAIN -`: the XML writer
// ---------------------------------------------------------------------------------------

const XML_HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
<plist version=\"1.0\">\n";

/// The XML plist `defaults export DOMAIN -` prints (reference 1.8; fixture
/// `defaults-export-dock.xml`): Apple's header, one TAB per level, sorted keys, `<true/>`,
/// `<dict/>`/`<array/>` when empty. Written here rather than by the plist crate, whose writer
/// keeps insertion order and formats reals its own way.
pub fn xml_document(dict: &Dictionary) -> String {
    let mut out = String::from(XML_HEADER);
    write_xml_dict(dict, 0, &mut out);
    out.push_str("</plist>\n");
    out
}

fn write_xml_dict(dict: &Dictionary, depth: usize, out: &mut String) {
    let pad = "\t".repeat(depth);
    if dict.is_empty() {
        let _ = writeln!(out, "{pad}<dict/>");
        return;
    }
    let _ = writeln!(out, "{pad}<dict>");
    for (key, value) in sorted_entries(dict) {
        let _ = writeln!(out, "{pad}\t<key>{}</key>", xml_escape(key));
        write_xml_value(value, depth + 1, out);
    }
    let _ = writeln!(out, "{pad}</dict>");
}

fn write_xml_value(value: &Value, depth: usize, out: &mut String) {
    let pad = "\t".repeat(depth);
    let _ = match value {
        Value::Dictionary(dict) => {
            write_xml_dict(dict, depth, out);
            Ok(())
        }
        Value::Array(items) if items.is_empty() => writeln!(out, "{pad}<array/>"),
        Value::Array(items) => {
            let _ = writeln!(out, "{pad}<array>");
            items
                .iter()
                .for_each(|item| write_xml_value(item, depth + 1, out));
            writeln!(out, "{pad}</array>")
        }
        Value::Boolean(b) => writeln!(out, "{pad}<{}/>", if *b { "true" } else { "false" }),
        Value::Integer(i) => writeln!(out, "{pad}<integer>{i}</integer>"),
        Value::Real(r) => writeln!(out, "{pad}<real>{}</real>", xml_real(*r)),
        Value::String(text) => writeln!(out, "{pad}<string>{}</string>", xml_escape(text)),
        Value::Date(date) => writeln!(out, "{pad}<date>{}</date>", date.to_xml_format()),
        Value::Data(bytes) => {
            write_xml_data(bytes, depth, out);
            Ok(())
        }
        Value::Uid(uid) => writeln!(out, "{pad}<integer>{}</integer>", uid.get()),
        _ => Ok(()),
    };
}

/// CoreFoundation's XML real: `0.0` for zero (as the fixture shows `<real>0.0</real>`), else
/// `%.17g` (CF `__CFNumberCopyFormattingDescriptionAsFloat64`, from memory of the open
/// CF-Lite source: UNCONFIRMED beyond the zero case).
fn xml_real(value: f64) -> String {
    if value == 0.0 {
        return "0.0".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "+infinity"
        } else {
            "-infinity"
        }
        .to_string();
    }
    format_g(value, 17)
}

/// Base64 lines of `76 - 8 × depth` characters (a TAB counted as 8; CF
/// `_XMLPlistAppendDataUsingBase64`), each at the element's indent. Line width UNCONFIRMED by
/// capture; it gives the 68-character lines familiar from one-level `<data>` in Apple files.
fn write_xml_data(bytes: &[u8], depth: usize, out: &mut String) {
    let pad = "\t".repeat(depth);
    let width = 76 - 8 * depth.min(8);
    let encoded = base64(bytes);
    let _ = writeln!(out, "{pad}<data>");
    for line in encoded.as_bytes().chunks(width) {
        let _ = writeln!(out, "{pad}{}", String::from_utf8_lossy(line));
    }
    let _ = writeln!(out, "{pad}</data>");
}

/// CF escapes exactly `&`, `<` and `>` in XML text.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour; each names the capture or source it follows
    //! (fixtures live in ../shared/reference/fixtures/macos/, reference sections in
    //! ../shared/reference/macos-commands.md).

    use super::*;
    use crate::testing::{args, mac};
    use tempfile::TempDir;

    fn machine() -> (TempDir, Machine) {
        mac("m2-16gb-sonoma")
    }

    fn defaults(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list), b"")
    }

    fn defaults_stdin(machine: &Machine, list: &[&str], stdin: &[u8]) -> Output {
        run(machine, &args(list), stdin)
    }

    /// Runs a command that must succeed silently.
    fn ok(machine: &Machine, list: &[&str]) {
        let out = defaults(machine, list);
        assert_eq!(out, Output::ok(""), "defaults {list:?}");
    }

    /// The domain as `defaults export DOMAIN -` shows it, parsed back.
    fn exported(machine: &Machine, domain: &str) -> Dictionary {
        let out = defaults(machine, &["export", domain, "-"]);
        assert_eq!(out.status, 0, "{out:?}");
        match Value::from_reader_xml(out.stdout.as_bytes()).unwrap() {
            Value::Dictionary(dict) => dict,
            other => panic!("not a dictionary: {other:?}"),
        }
    }

    fn exported_key(machine: &Machine, domain: &str, key: &str) -> Value {
        exported(machine, domain)
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} missing"))
    }

    /// The NSLog shape of reference section 0: a prefix line ending in "] " (the message
    /// starts with a newline), then the message lines.
    fn assert_nslog_multiline(out: &Output, message_lines: &str) {
        assert_eq!(out.status, 1, "{out:?}");
        assert_eq!(out.stdout, "");
        let (prefix, rest) = out.stderr.split_once('\n').unwrap();
        assert!(prefix.ends_with("] "), "prefix {prefix:?}");
        assert!(prefix.contains(" defaults["), "prefix {prefix:?}");
        assert_eq!(rest, message_lines);
    }

    /// One-line NSLog (`defaults-write-could-not-write-domain.txt`): `… defaults[P:T] MSG`.
    fn assert_nslog_one_line(out: &Output, message: &str) {
        assert_eq!(out.status, 1, "{out:?}");
        assert_eq!(out.stdout, "");
        assert!(out.stderr.ends_with(&format!("] {message}\n")), "{out:?}");
        assert_eq!(out.stderr.matches('\n').count(), 1, "{out:?}");
        assert!(out.stderr.contains(" defaults["), "{out:?}");
    }

    fn real(v: f64) -> Value {
        Value::Real(v)
    }

    fn int(v: i64) -> Value {
        Value::Integer(v.into())
    }

    fn string(v: &str) -> Value {
        Value::String(v.to_string())
    }

    fn dict(entries: Vec<(&str, Value)>) -> Value {
        Value::Dictionary(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn bytes_with(len: usize, head: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0x55; len];
        bytes[..head.len()].copy_from_slice(head);
        bytes[len - tail.len()..].copy_from_slice(tail);
        bytes
    }

    fn save(machine: &Machine, domain: &str, value: Value) {
        let Value::Dictionary(dict) = value else {
            panic!("not a dict")
        };
        machine.save_domain(&Scope::User, domain, &dict).unwrap();
    }

    // ---- read: the old-style printer ---------------------------------------------------

    /// [capture] defaults-read-dock-tahoe-partial.txt: the first 30 lines, byte for byte.
    #[test]
    fn dates_take_their_zone_and_refuse_days_and_hours_that_do_not_exist() {
        let (_dir, m) = machine();
        ok(
            &m,
            &["write", "x.d", "d", "-date", "2024-02-29 03:04:05 +0200"],
        );
        assert_eq!(
            defaults(&m, &["read", "x.d", "d"]),
            Output::ok("2024-02-29 01:04:05 +0000\n")
        );
        for bad in [
            "2023-02-29 00:00:00 +0000",
            "2024-04-31",
            "2024-01-01 24:00:00",
        ] {
            let out = defaults(&m, &["write", "x.d", "d", "-date", bad]);
            assert_eq!(out.status, 1, "{bad}: {out:?}");
        }
    }

    #[test]
    fn read_domain_matches_dock_tahoe_capture() {
        let (_dir, m) = machine();
        let book = bytes_with(
            584,
            &[
                0x62, 0x6f, 0x6f, 0x6b, 0x48, 0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x10, 0x30, 0x00,
                0x00, 0x00,
            ],
            &[0x04, 0, 0, 0, 0, 0, 0, 0],
        );
        let launchpad = dict(vec![
            ("GUID", int(2_220_250_835)),
            (
                "tile-data",
                dict(vec![
                    ("book", Value::Data(book)),
                    ("bundle-identifier", string("com.apple.launchpad.launcher")),
                    (
                        "file-data",
                        dict(vec![
                            (
                                "_CFURLString",
                                string("file:///System/Applications/Launchpad.app/"),
                            ),
                            ("_CFURLStringType", int(15)),
                        ]),
                    ),
                    ("file-label", string("Launchpad")),
                    ("file-mod-date", int(0)),
                    ("is-beta", Value::Boolean(false)),
                    ("parent-mod-date", int(0)),
                ]),
            ),
            ("tile-type", string("file-tile")),
        ]);
        let second = dict(vec![("GUID", int(1))]);
        save(
            &m,
            "com.apple.dock",
            dict(vec![
                ("persistent-apps", Value::Array(vec![launchpad, second])),
                ("orientation", string("bottom")),
                ("mod-count", int(208)),
                ("minimize-to-application", Value::Boolean(true)),
                ("mineffect", string("scale")),
                ("magnification", Value::Boolean(false)),
                ("loc", string("en_US:US")),
                ("lastShowIndicatorTime", real(771_614_090.954_601)),
                (
                    "last-analytics-stamp",
                    Value::Array(vec![real(773_430_205.445_271)]),
                ),
                ("autohide-delay", real(0.0)),
                ("autohide", Value::Boolean(true)),
            ]),
        );
        let expected = r#"{
    autohide = 1;
    "autohide-delay" = 0;
    "last-analytics-stamp" =     (
        "773430205.445271"
    );
    lastShowIndicatorTime = "771614090.954601";
    loc = "en_US:US";
    magnification = 0;
    mineffect = scale;
    "minimize-to-application" = 1;
    "mod-count" = 208;
    orientation = bottom;
    "persistent-apps" =     (
                {
            GUID = 2220250835;
            "tile-data" =             {
                book = {length = 584, bytes = 0x626f6f6b 48020000 00000410 30000000 ... 04000000 00000000 };
                "bundle-identifier" = "com.apple.launchpad.launcher";
                "file-data" =                 {
                    "_CFURLString" = "file:///System/Applications/Launchpad.app/";
                    "_CFURLStringType" = 15;
                };
                "file-label" = Launchpad;
                "file-mod-date" = 0;
                "is-beta" = 0;
                "parent-mod-date" = 0;
            };
            "tile-type" = "file-tile";
        },
"#;
        let out = defaults(&m, &["read", "com.apple.dock"]);
        assert_eq!(out.status, 0);
        assert!(
            out.stdout.starts_with(expected),
            "got:\n{}\nwant prefix:\n{expected}",
            out.stdout
        );
        assert!(
            out.stdout.ends_with("        }\n    );\n}\n"),
            "{}",
            out.stdout
        );
    }

    /// [capture] defaults-read-itsycal-partial.txt: spaces, dates and arrays of strings.
    #[test]
    fn read_domain_matches_itsycal_capture() {
        let (_dir, m) = machine();
        let checked = plist::Date::from_xml_format("2023-10-11T01:47:04Z").unwrap();
        save(
            &m,
            "com.mowglii.ItsycalApp",
            dict(vec![
                ("ClockFormat", string("E MMM d")),
                ("HideIcon", Value::Boolean(true)),
                ("NSStatusItem Preferred Position ItsycalStatusItem", int(90)),
                (
                    "NSWindow Frame SUUpdateAlert",
                    string("968 14 938 518 0 0 1920 1080 "),
                ),
                ("SUEnableAutomaticChecks", Value::Boolean(false)),
                ("SUHasLaunchedBefore", Value::Boolean(true)),
                ("SULastCheckTime", Value::Date(checked)),
                ("SUSkippedVersion", int(2260)),
                (
                    "SelectedCalendars",
                    Value::Array(vec![
                        string("F3E57387-3448-427D-ADD9-7C682C52778D"),
                        string("E595BDF8-E722-4A11-AE67-6D01C8B4E353"),
                    ]),
                ),
            ]),
        );
        let expected = r#"{
    ClockFormat = "E MMM d";
    HideIcon = 1;
    "NSStatusItem Preferred Position ItsycalStatusItem" = 90;
    "NSWindow Frame SUUpdateAlert" = "968 14 938 518 0 0 1920 1080 ";
    SUEnableAutomaticChecks = 0;
    SUHasLaunchedBefore = 1;
    SULastCheckTime = "2023-10-11 01:47:04 +0000";
    SUSkippedVersion = 2260;
    SelectedCalendars =     (
        "F3E57387-3448-427D-ADD9-7C682C52778D",
        "E595BDF8-E722-4A11-AE67-6D01C8B4E353"
    );
}
"#;
        assert_eq!(
            defaults(&m, &["read", "com.mowglii.ItsycalApp"]),
            Output::ok(expected)
        );
    }

    /// [capture] defaults-read-bool-prints-1.txt (`-bool TRUE`, then the domain reads `1`).
    #[test]
    fn bool_prints_1_in_domain_read() {
        let (_dir, m) = machine();
        ok(
            &m,
            &[
                "write",
                "com.apple.desktopservices",
                "DSDontWriteNetworkStores",
                "-bool",
                "TRUE",
            ],
        );
        assert_eq!(
            defaults(&m, &["read", "com.apple.desktopservices"]),
            Output::ok("{\n    DSDontWriteNetworkStores = 1;\n}\n")
        );
    }

    /// [capture] defaults-read-missing-key-then-bool.txt: after `-bool true` the key reads
    /// `1` bare.
    #[test]
    fn key_read_of_bool_prints_bare_1() {
        let (_dir, m) = machine();
        let domain = "com.lwouis.alt-tab-macos";
        ok(
            &m,
            &["write", domain, "previewFocusedWindow", "-bool", "true"],
        );
        assert_eq!(
            defaults(&m, &["read", domain, "previewFocusedWindow"]),
            Output::ok("1\n")
        );
    }

    /// [capture] defaults-read-data-truncated.txt, byte for byte.
    #[test]
    fn long_data_prints_truncated_like_capture() {
        let (_dir, m) = machine();
        let data = bytes_with(
            920,
            &[
                0x62, 0x6f, 0x6f, 0x6b, 0x98, 0x03, 0, 0, 0, 0, 0x04, 0x10, 0x30, 0, 0, 0,
            ],
            &[0x38, 0x02, 0, 0, 0, 0, 0, 0],
        );
        save(
            &m,
            "com.apple.QuickTimePlayerX",
            dict(vec![("NSOSPLastRootDirectory", Value::Data(data))]),
        );
        assert_eq!(
            defaults(
                &m,
                &[
                    "read",
                    "com.apple.QuickTimePlayerX",
                    "NSOSPLastRootDirectory"
                ]
            ),
            Output::ok(
                "{length = 920, bytes = 0x626f6f6b 98030000 00000410 30000000 ... \
                 38020000 00000000 }\n"
            )
        );
    }

    /// Reference 1.3 "short data prints in full" (threshold 24 bytes: UNCONFIRMED, see
    /// `data_text`).
    #[test]
    fn short_data_prints_in_full_up_to_24_bytes() {
        assert_eq!(data_text(&[1, 2, 0xab]), "{length = 3, bytes = 0x0102ab}");
        let full = data_text(&[0x11; 24]);
        assert_eq!(
            full,
            format!("{{length = 24, bytes = 0x{}}}", "11".repeat(24))
        );
        assert!(data_text(&[0x11; 25]).contains(" ... "));
        assert_eq!(data_text(&[]), "{length = 0, bytes = 0x}");
    }

    /// Reference 1.3: scalars at the top level print bare; strings exactly as stored.
    #[test]
    fn key_read_of_scalars_prints_bare_values() {
        let (_dir, m) = machine();
        let when = plist::Date::from_xml_format("2023-10-11T01:47:04Z").unwrap();
        save(
            &m,
            "x.scalars",
            dict(vec![
                ("s", string("a \"b\" c-d.e")),
                ("r", real(0.5)),
                ("z", real(0.0)),
                ("i", int(-3)),
                ("d", Value::Date(when)),
            ]),
        );
        let read = |key: &str| defaults(&m, &["read", "x.scalars", key]).stdout;
        assert_eq!(read("s"), "a \"b\" c-d.e\n");
        assert_eq!(read("r"), "0.5\n");
        assert_eq!(read("z"), "0\n");
        assert_eq!(read("i"), "-3\n");
        // Top-level date unquoted: reference 1.3 (UNCONFIRMED there).
        assert_eq!(read("d"), "2023-10-11 01:47:04 +0000\n");
    }

    /// Reference 1.3: `defaults read dom key` of an array is the block at column 0, which
    /// Ansible's `_convert_defaults_str_to_list` parses by dropping first and last line.
    #[test]
    fn key_read_of_array_is_block_at_column_0() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.arr", "list", "-array", "a", "b c", ""]);
        assert_eq!(
            defaults(&m, &["read", "x.arr", "list"]),
            Output::ok("(\n    a,\n    \"b c\",\n    \"\"\n)\n")
        );
    }

    /// Empty collections print their brackets on two lines (NSArray description).
    #[test]
    fn empty_collections_print_open_and_close() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.empty", "a", "-array"]);
        ok(&m, &["write", "x.empty", "d", "-dict"]);
        assert_eq!(
            defaults(&m, &["read", "x.empty"]),
            Output::ok("{\n    a =     (\n    );\n    d =     {\n    };\n}\n")
        );
    }

    /// Reference 1.3 quoting: alphanumerics bare; `_`, `-`, `.`, `:`, `/`, space and empty
    /// quoted; `"`, `\` and newline escaped (safe set and escapes UNCONFIRMED beyond that).
    #[test]
    fn quoting_rules_of_old_style_strings() {
        assert_eq!(quote_if_needed("scale"), "scale");
        assert_eq!(quote_if_needed("2220250835"), "2220250835");
        assert_eq!(quote_if_needed("en_US"), "\"en_US\"");
        assert_eq!(quote_if_needed("a-b"), "\"a-b\"");
        assert_eq!(quote_if_needed(""), "\"\"");
        assert_eq!(quote_if_needed("a:b/c.d e"), "\"a:b/c.d e\"");
        assert_eq!(
            quote_if_needed("say \"hi\"\\\nnext"),
            "\"say \\\"hi\\\"\\\\\\nnext\""
        );
        assert_eq!(quote_if_needed("\u{5fae}\u{4fe1}"), "\"\\U5fae\\U4fe1\"");
        assert_eq!(quote_if_needed("\u{1F600}"), "\"\\Ud83d\\Ude00\"");
    }

    /// NSNumber `%0.16g` for doubles (reals in a dump; fixture values), C `%g` layout.
    #[test]
    fn reals_print_like_nsnumber_description() {
        assert_eq!(format_g(0.0, 16), "0");
        assert_eq!(format_g(771_614_090.954_601, 16), "771614090.954601");
        assert_eq!(format_g(0.1, 16), "0.1");
        assert_eq!(format_g(48.0, 16), "48");
        assert_eq!(format_g(-2.5, 16), "-2.5");
        assert_eq!(format_g(1e20, 16), "1e+20");
        assert_eq!(format_g(0.000_012_5, 16), "1.25e-05");
        assert_eq!(format_g(f64::from(0.15f32), 16), "0.1500000059604645");
    }

    /// `defaults read` with no domain: every domain under its pretty name (reimpl).
    #[test]
    fn read_without_domain_lists_every_domain() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read"]);
        assert_eq!(out.status, 0);
        assert!(
            out.stdout
                .starts_with("{\n    \"Apple Global Domain\" =     {\n")
        );
        assert!(out.stdout.contains("\n    \"com.apple.dock\" =     {\n"));
    }

    // ---- read errors -------------------------------------------------------------------

    /// [capture] defaults-read-missing-key.txt: prefix line, then the pair message; exit 1.
    #[test]
    fn missing_key_is_nslog_pair_message_exit_1() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read", "com.apple.dock", "no-such-key"]);
        assert_nslog_multiline(
            &out,
            "The domain/default pair of (com.apple.dock, no-such-key) does not exist\n",
        );
    }

    /// Public captures of `defaults read -g AppleInterfaceStyle` in light mode name the
    /// global domain `kCFPreferencesAnyApplication`.
    #[test]
    fn missing_global_key_names_any_application() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read", "-g", "AppleInterfaceStyle"]);
        assert_nslog_multiline(
            &out,
            "The domain/default pair of (kCFPreferencesAnyApplication, AppleInterfaceStyle) \
             does not exist\n",
        );
    }

    /// [capture] defaults-read-missing-domain.txt: `Domain com.apple does not exist`.
    #[test]
    fn missing_domain_is_nslog_domain_message_exit_1() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read", "com.apple"]);
        assert_nslog_multiline(&out, "Domain com.apple does not exist\n");
        // A key read in a missing domain is the pair message (reimpl).
        let out = defaults(&m, &["read", "com.apple", "k"]);
        assert_nslog_multiline(
            &out,
            "The domain/default pair of (com.apple, k) does not exist\n",
        );
    }

    /// Reference 1.4: a domain with zero keys also reads as "does not exist".
    #[test]
    fn empty_domain_does_not_exist() {
        let (_dir, m) = machine();
        let path = m.domain_path(&Scope::User, "x.empty");
        std::fs::write(&path, xml_document(&Dictionary::new())).unwrap();
        let out = defaults(&m, &["read", "x.empty"]);
        assert_nslog_multiline(&out, "Domain x.empty does not exist\n");
    }

    // ---- read-type ---------------------------------------------------------------------

    /// [capture] defaults-read-type-integer.txt and the vocabulary of reference 1.5.
    #[test]
    fn read_type_names_every_type() {
        let (_dir, m) = machine();
        let d = "x.types";
        ok(&m, &["write", d, "string", "-string", "s"]);
        ok(&m, &["write", d, "data", "-data", "00ff"]);
        ok(&m, &["write", d, "integer", "-int", "1"]);
        ok(&m, &["write", d, "float", "-float", "1.5"]);
        ok(&m, &["write", d, "boolean", "-bool", "yes"]);
        ok(
            &m,
            &["write", d, "date", "-date", "2024-01-02 03:04:05 +0000"],
        );
        ok(&m, &["write", d, "array", "-array", "a"]);
        ok(&m, &["write", d, "dictionary", "-dict", "k", "v"]);
        for name in [
            "string",
            "data",
            "integer",
            "float",
            "boolean",
            "date",
            "array",
            "dictionary",
        ] {
            assert_eq!(
                defaults(&m, &["read-type", d, name]),
                Output::ok(format!("Type is {name}\n"))
            );
        }
    }

    /// Reference 1.5: a missing key (or domain) fails like `read`.
    #[test]
    fn read_type_of_missing_key_fails_like_read() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read-type", "com.apple.dock", "nope"]);
        assert_nslog_multiline(
            &out,
            "The domain/default pair of (com.apple.dock, nope) does not exist\n",
        );
        let out = defaults(&m, &["read-type", "no.such", "nope"]);
        assert_nslog_multiline(
            &out,
            "The domain/default pair of (no.such, nope) does not exist\n",
        );
    }

    // ---- write: type flags -------------------------------------------------------------

    /// Reference 1.6: every scalar flag stores its type, seen through `export` (1.8).
    #[test]
    fn every_scalar_flag_round_trips_through_export() {
        let (_dir, m) = machine();
        let d = "x.flags";
        ok(&m, &["write", d, "s", "-string", "hello world"]);
        ok(&m, &["write", d, "data", "-data", "62706C69"]);
        ok(&m, &["write", d, "int", "-int", "-42"]);
        ok(&m, &["write", d, "integer", "-integer", "9000000000"]);
        ok(&m, &["write", d, "float", "-float", "0.5"]);
        ok(&m, &["write", d, "bool", "-bool", "NO"]);
        ok(&m, &["write", d, "boolean", "-boolean", "Yes"]);
        ok(
            &m,
            &["write", d, "date", "-date", "2019-09-16 05:45:42 +0000"],
        );
        let got = exported(&m, d);
        let date = plist::Date::from_xml_format("2019-09-16T05:45:42Z").unwrap();
        let want = dict(vec![
            ("s", string("hello world")),
            ("data", Value::Data(b"bpli".to_vec())),
            ("int", int(-42)),
            ("integer", int(9_000_000_000)),
            ("float", real(0.5)),
            ("bool", Value::Boolean(false)),
            ("boolean", Value::Boolean(true)),
            ("date", Value::Date(date)),
        ]);
        assert_eq!(Value::Dictionary(got), want);
    }

    /// `-date` with a zone offset, without one (Ansible), and as an XML date.
    #[test]
    fn date_flag_accepts_offsets_and_plain_forms() {
        let (_dir, m) = machine();
        ok(
            &m,
            &["write", "x.date", "a", "-date", "2024-01-02 05:04:05 +0200"],
        );
        ok(
            &m,
            &["write", "x.date", "b", "-date", "2024-01-02 03:04:05"],
        );
        ok(
            &m,
            &["write", "x.date", "c", "-date", "2024-01-02T03:04:05Z"],
        );
        let want = Value::Date(plist::Date::from_xml_format("2024-01-02T03:04:05Z").unwrap());
        for key in ["a", "b", "c"] {
            assert_eq!(exported_key(&m, "x.date", key), want, "{key}");
        }
    }

    /// Reference 1.6 / reimpl `floatValue`: `-float` stores single precision.
    #[test]
    fn float_flag_stores_single_precision() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.f", "k", "-float", "0.15"]);
        assert_eq!(exported_key(&m, "x.f", "k"), real(f64::from(0.15f32)));
        ok(&m, &["write", "x.f", "z", "-float", "0"]);
        assert_eq!(exported_key(&m, "x.f", "z"), real(0.0));
        ok(&m, &["write", "x.f", "junk", "-float", "abc"]);
        assert_eq!(exported_key(&m, "x.f", "junk"), real(0.0));
        ok(&m, &["write", "x.f", "e", "-float", " 2.5e2x"]);
        assert_eq!(exported_key(&m, "x.f", "e"), real(250.0));
    }

    /// Reference 1.6 / reimpl `longLongValue`: non-numeric text becomes 0 (UNCONFIRMED for
    /// Apple), a numeric prefix is kept.
    #[test]
    fn int_flag_parses_like_long_long_value() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.i", "a", "-int", "abc"]);
        ok(&m, &["write", "x.i", "b", "-int", "12abc"]);
        ok(&m, &["write", "x.i", "c", "-int", "1.9"]);
        ok(&m, &["write", "x.i", "d", "-int", "99999999999999999999"]);
        let got = exported(&m, "x.i");
        assert_eq!(got.get("a"), Some(&int(0)));
        assert_eq!(got.get("b"), Some(&int(12)));
        assert_eq!(got.get("c"), Some(&int(1)));
        assert_eq!(got.get("d"), Some(&int(i64::MAX)));
    }

    /// Reference 1.6 / reimpl: a bad `-bool` prints the usage and exits 1, changing nothing.
    #[test]
    fn bad_bool_prints_usage_exit_1() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["write", "x.b", "k", "-bool", "maybe"]);
        assert_eq!(out.status, 1);
        assert!(out.stdout.contains("-bool[ean] (true | false | yes | no)"));
        assert_nslog_multiline(
            &defaults(&m, &["read", "x.b"]),
            "Domain x.b does not exist\n",
        );
    }

    /// reimpl: bad `-data` hex exits 255 with the usage; a bad `-date` exits 1.
    #[test]
    fn bad_data_and_date_print_usage() {
        let (_dir, m) = machine();
        assert_eq!(
            defaults(&m, &["write", "x", "k", "-data", "abc"]).status,
            255
        );
        assert_eq!(
            defaults(&m, &["write", "x", "k", "-data", "zz"]).status,
            255
        );
        assert_eq!(
            defaults(&m, &["write", "x", "k", "-date", "someday"]).status,
            1
        );
        assert_eq!(
            defaults(
                &m,
                &["write", "x", "k", "-date", "2024-02-30 00:00:00 +0000"]
            )
            .status,
            1
        );
    }

    /// reimpl `write.m`: a type flag with no value is a usage error (255).
    #[test]
    fn type_flag_without_value_is_usage_255() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["write", "x", "k", "-int"]);
        assert_eq!(out.status, 255);
        assert!(
            out.stdout
                .starts_with("Command line interface to a user's defaults.")
        );
    }

    // ---- write: arrays and dictionaries ------------------------------------------------

    /// Reference 1.6: `-array` replaces; elements may carry their own type flags.
    #[test]
    fn array_flag_with_typed_elements() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.a", "k", "-array", "old"]);
        ok(
            &m,
            &[
                "write", "x.a", "k", "-array", "-int", "1", "-bool", "yes", "two",
            ],
        );
        assert_eq!(
            exported_key(&m, "x.a", "k"),
            Value::Array(vec![int(1), Value::Boolean(true), string("two")])
        );
    }

    /// Reference 1.6: `-array-add` appends, creating the array if absent.
    #[test]
    fn array_add_appends_and_creates() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.a", "k", "-array-add", "a"]);
        ok(&m, &["write", "x.a", "k", "-array-add", "b", "-int", "3"]);
        assert_eq!(
            exported_key(&m, "x.a", "k"),
            Value::Array(vec![string("a"), string("b"), int(3)])
        );
    }

    /// Reference 1.6 / reimpl: appending to a non-array, with two spaces after the period.
    #[test]
    fn array_add_to_non_array_is_refused() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.a", "k", "-string", "s"]);
        let out = defaults(&m, &["write", "x.a", "k", "-array-add", "b"]);
        assert_nslog_one_line(
            &out,
            "Value for key k is not an array; cannot append.  Leaving defaults unchanged.",
        );
        assert_eq!(exported_key(&m, "x.a", "k"), string("s"));
    }

    /// Reference 1.6: `-dict` replaces, `-dict-add` merges; values may be typed; a key may be
    /// introduced by `-string`.
    #[test]
    fn dict_and_dict_add() {
        let (_dir, m) = machine();
        ok(
            &m,
            &["write", "x.d", "k", "-dict", "a", "-int", "1", "b", "text"],
        );
        ok(
            &m,
            &[
                "write",
                "x.d",
                "k",
                "-dict-add",
                "-string",
                "c",
                "-bool",
                "true",
                "a",
                "2",
            ],
        );
        assert_eq!(
            exported_key(&m, "x.d", "k"),
            dict(vec![
                ("a", string("2")),
                ("b", string("text")),
                ("c", Value::Boolean(true)),
            ])
        );
        ok(&m, &["write", "x.d", "k", "-dict", "only", "1"]);
        assert_eq!(
            exported_key(&m, "x.d", "k"),
            dict(vec![("only", string("1"))])
        );
    }

    /// Reference 1.6 / reimpl: `-dict-add` onto a non-dictionary.
    #[test]
    fn dict_add_to_non_dict_is_refused() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.d", "k", "-array", "a"]);
        let out = defaults(&m, &["write", "x.d", "k", "-dict-add", "b", "c"]);
        assert_nslog_one_line(
            &out,
            "Value for key k is not a dictionary; cannot append.  Leaving defaults unchanged.",
        );
    }

    /// Reference 1.6 / reimpl: composites cannot nest.
    #[test]
    fn nested_composites_are_refused() {
        let (_dir, m) = machine();
        let message = "Cannot nest composite types (arrays and dictionaries); exiting";
        for list in [
            ["write", "x.n", "k", "-array", "a", "-array"].as_slice(),
            &["write", "x.n", "k", "-array-add", "-dict", "a"],
            &["write", "x.n", "k", "-dict", "a", "-array"],
            &["write", "x.n", "k", "-dict", "-dict", "a"],
        ] {
            assert_nslog_one_line(&defaults(&m, list), message);
        }
        assert_eq!(defaults(&m, &["read", "x.n"]).status, 1);
    }

    /// reimpl `write.m`: typed dictionary keys and keys without a value.
    #[test]
    fn dict_key_errors() {
        let (_dir, m) = machine();
        assert_nslog_one_line(
            &defaults(&m, &["write", "x", "k", "-dict", "-int", "1", "v"]),
            "Dictionary keys must be strings",
        );
        assert_nslog_one_line(
            &defaults(&m, &["write", "x", "k", "-dict", "a", "1", "b"]),
            "Key b lacks a corresponding value",
        );
    }

    /// reimpl `write.m`: `-array` / `-dict` alone store empty collections; `-array-add`
    /// alone changes nothing.
    #[test]
    fn lone_collection_flags() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.l", "a", "-array"]);
        ok(&m, &["write", "x.l", "d", "-dict"]);
        ok(&m, &["write", "x.l", "n", "-array-add"]);
        let got = exported(&m, "x.l");
        assert_eq!(got.get("a"), Some(&Value::Array(vec![])));
        assert_eq!(got.get("d"), Some(&Value::Dictionary(Dictionary::new())));
        assert_eq!(got.get("n"), None);
    }

    // ---- write: raw values -------------------------------------------------------------

    /// Reference 1.6: nix-darwin passes every value as a whole XML document
    /// (`tests/fixtures/system-defaults-write/user.txt`).
    #[test]
    fn raw_xml_document_value() {
        let (_dir, m) = machine();
        let document = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
            <!DOCTYPE plist PUBLIC \"-//Apple Computer//DTD PLIST 1.0//EN\" \
            \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
            <plist version=\"1.0\">\n<integer>1</integer>\n</plist>";
        ok(&m, &["write", "-g", "AppleFontSmoothing", document]);
        assert_eq!(exported_key(&m, "-g", "AppleFontSmoothing"), int(1));
        assert_eq!(
            defaults(&m, &["read-type", "-g", "AppleFontSmoothing"]),
            Output::ok("Type is integer\n")
        );
    }

    /// Reference 1.6: bare XML fragments, also as `-array-add` elements
    /// (Yannbertrand/macos-defaults#62).
    #[test]
    fn raw_xml_fragments() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.x", "r", "<real>0.15</real>"]);
        assert_eq!(exported_key(&m, "x.x", "r"), real(0.15));
        let tile = "<dict><key>tile-data</key><dict><key>file-label</key>\
                    <string>Ollama</string></dict><key>tile-type</key>\
                    <string>file-tile</string></dict>";
        ok(&m, &["write", "x.x", "apps", "-array-add", tile]);
        assert_eq!(
            exported_key(&m, "x.x", "apps"),
            Value::Array(vec![dict(vec![
                ("tile-data", dict(vec![("file-label", string("Ollama"))])),
                ("tile-type", string("file-tile")),
            ])])
        );
    }

    /// Reference 1.6: old-style values; their scalars are strings.
    #[test]
    fn raw_old_style_values() {
        let (_dir, m) = machine();
        ok(
            &m,
            &[
                "write",
                "x.o",
                "d",
                "{ a = 1; \"b c\" = ( x, \"y z\", <0102 ff> ); e = {}; /* note */ }",
            ],
        );
        ok(&m, &["write", "x.o", "l", "(a, b,)"]);
        let got = exported(&m, "x.o");
        assert_eq!(
            got.get("d"),
            Some(&dict(vec![
                ("a", string("1")),
                (
                    "b c",
                    Value::Array(vec![
                        string("x"),
                        string("y z"),
                        Value::Data(vec![1, 2, 0xff]),
                    ])
                ),
                ("e", Value::Dictionary(Dictionary::new())),
            ]))
        );
        assert_eq!(
            got.get("l"),
            Some(&Value::Array(vec![string("a"), string("b")]))
        );
    }

    /// Old-style escapes as CoreFoundation reads them.
    #[test]
    fn old_style_string_escapes() {
        let parsed =
            OldStyle::parse(r#"( "q\"b\\n\n\t", 'single', "\U00e9\Ud83d\Ude00", "\101" )"#);
        assert_eq!(
            parsed.unwrap(),
            Value::Array(vec![
                string("q\"b\\n\n\t"),
                string("single"),
                string("é😀"),
                string("A"),
            ])
        );
    }

    /// lwouis/alt-tab-macos#4363 (reference 1.6): an untyped value is a string.
    #[test]
    fn untyped_value_is_a_string() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.u", "k", "true"]);
        assert_eq!(exported_key(&m, "x.u", "k"), string("true"));
        assert_eq!(
            defaults(&m, &["read-type", "x.u", "k"]),
            Output::ok("Type is string\n")
        );
    }

    /// reimpl `helpers.m` (UNCONFIRMED for Apple): unparseable plist text.
    #[test]
    fn unparseable_plist_text_is_refused() {
        let (_dir, m) = machine();
        for text in ["{foo", "(a b)", "<notxml>", "{ a = 1 }"] {
            let out = defaults(&m, &["write", "x.p", "k", text]);
            assert_nslog_one_line(
                &out,
                &format!("Could not parse: {text}.  Try single-quoting it."),
            );
        }
        assert_eq!(defaults(&m, &["read", "x.p"]).status, 1);
    }

    /// Values survive byte for byte: quotes, spaces, unicode, `$`, `;`, newlines, XML
    /// specials, leading and trailing blanks, and text that merely looks like a flag.
    #[test]
    fn hostile_strings_round_trip() {
        let (_dir, m) = machine();
        let hostile = [
            "it's \"quoted\"",
            "  padded  ",
            "naïve — 日本語 😀",
            "$HOME; rm -rf / `x` $(y)",
            "line1\nline2\r\n\ttabbed",
            "<tag> & </tag> ]]>",
            "back\\slash\\",
            "-string",
            "",
            "a = b; c",
        ];
        for (i, text) in hostile.iter().enumerate() {
            let key = format!("k{i}");
            ok(&m, &["write", "x.h", &key, "-string", text]);
            assert_eq!(exported_key(&m, "x.h", &key), string(text), "{text:?}");
            assert_eq!(
                defaults(&m, &["read", "x.h", &key]),
                Output::ok(format!("{text}\n")),
                "{text:?}"
            );
        }
        // Untyped plain text (not starting with `<`, `(`, `{`) is stored as is too.
        ok(&m, &["write", "x.h", "plain", "a \"b\"; $c\nd"]);
        assert_eq!(exported_key(&m, "x.h", "plain"), string("a \"b\"; $c\nd"));
        // And keys too.
        ok(
            &m,
            &["write", "x.h", "key with \"quotes\" & <xml>", "-int", "1"],
        );
        assert_eq!(
            exported_key(&m, "x.h", "key with \"quotes\" & <xml>"),
            int(1)
        );
    }

    /// Reference 1.6 / reimpl: `write DOMAIN 'PLIST'` replaces the whole domain.
    #[test]
    fn write_domain_rep_replaces_domain() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.r", "old", "-int", "1"]);
        ok(&m, &["write", "x.r", "{ new = value; }"]);
        assert_eq!(
            Value::Dictionary(exported(&m, "x.r")),
            dict(vec![("new", string("value"))])
        );
        let out = defaults(&m, &["write", "x.r", "(a)"]);
        assert_nslog_multiline(
            &out,
            "Rep argument is not a dictionary\nDefaults have not been changed.\n",
        );
    }

    /// [capture] defaults-write-unexpected-argument.txt: the domain was forgotten, so the
    /// key became the domain and the second array element is "unexpected".
    #[test]
    fn unexpected_argument_like_capture() {
        let (_dir, m) = machine();
        let out = defaults(
            &m,
            &[
                "-currentHost",
                "write",
                "dontAutoLoad",
                "-array",
                "/System/Library/CoreServices/Menu Extras/TimeMachine.menu",
                "/System/Library/CoreServices/Menu Extras/Volume.menu",
                "/System/Library/CoreServices/Menu Extras/User.menu",
            ],
        );
        assert_nslog_one_line(
            &out,
            "Unexpected argument /System/Library/CoreServices/Menu Extras/Volume.menu; \
             leaving defaults unchanged.",
        );
        let out = defaults(&m, &["write", "x", "k", "-int", "1", "extra"]);
        assert_nslog_one_line(
            &out,
            "Unexpected argument extra; leaving defaults unchanged.",
        );
        assert_eq!(
            defaults(&m, &["-currentHost", "read", "dontAutoLoad"]).status,
            1
        );
    }

    // ---- permissions, scopes and path domains ------------------------------------------

    /// [capture] defaults-write-could-not-write-domain.txt: a system domain needs root.
    #[test]
    fn system_domain_refused_without_root() {
        let (_dir, m) = machine();
        assert_ne!(m.info.uid, 0);
        let domain = "/Library/Preferences/com.apple.TimeMachine";
        let out = defaults(&m, &["write", domain, "AutoBackup", "-bool", "false"]);
        assert_nslog_one_line(
            &out,
            "Could not write domain /Library/Preferences/com.apple.TimeMachine; exiting",
        );
        assert!(!m.domain_path(&Scope::User, domain).exists());
    }

    /// Root (uid 0, `sudo`) may write system domains.
    #[test]
    fn system_domain_allowed_as_root() {
        let (_dir, mut m) = machine();
        m.info.uid = 0;
        let domain = "/Library/Preferences/com.apple.TimeMachine";
        ok(&m, &["write", domain, "AutoBackup", "-bool", "false"]);
        assert_eq!(
            defaults(&m, &["read", domain, "AutoBackup"]),
            Output::ok("0\n")
        );
        assert!(m.domain_path(&Scope::User, domain).exists());
    }

    /// Reference 1.2: `-currentHost` is a separate ByHost store; `-host NAME` acts on it too.
    #[test]
    fn current_host_is_a_separate_scope() {
        let (_dir, m) = machine();
        ok(
            &m,
            &[
                "-currentHost",
                "write",
                "-g",
                "com.apple.mouse.tapBehavior",
                "-int",
                "1",
            ],
        );
        assert_eq!(
            defaults(
                &m,
                &["-currentHost", "read", "-g", "com.apple.mouse.tapBehavior"]
            ),
            Output::ok("1\n")
        );
        assert_eq!(
            defaults(
                &m,
                &[
                    "-host",
                    "mini",
                    "read",
                    "NSGlobalDomain",
                    "com.apple.mouse.tapBehavior"
                ]
            ),
            Output::ok("1\n")
        );
        assert_eq!(
            defaults(&m, &["read", "-g", "com.apple.mouse.tapBehavior"]).status,
            1
        );
        ok(
            &m,
            &[
                "-currentHost",
                "write",
                "com.apple.screensaver",
                "idleTime",
                "-int",
                "0",
            ],
        );
        assert_eq!(
            defaults(&m, &["-currentHost", "domains"]),
            Output::ok("com.apple.screensaver\n")
        );
    }

    /// Reference 1.2: a domain starting with `/` is a file path without `.plist`.
    #[test]
    fn path_domain_is_its_file() {
        let (_dir, m) = machine();
        ok(&m, &["write", "/Users/Shared/x", "k", "-string", "v"]);
        assert!(m.dir.join("Users/Shared/x.plist").exists());
        assert_eq!(
            defaults(&m, &["read", "/Users/Shared/x", "k"]),
            Output::ok("v\n")
        );
        assert_nslog_multiline(
            &defaults(&m, &["read", "/Users/Shared/none"]),
            "Domain /Users/Shared/none does not exist\n",
        );
    }

    /// All global aliases name one domain (reference 1.2).
    #[test]
    fn global_aliases_are_one_domain() {
        let (_dir, m) = machine();
        ok(
            &m,
            &[
                "write",
                "-globalDomain",
                "AppleShowAllExtensions",
                "-bool",
                "true",
            ],
        );
        for alias in ["-g", "NSGlobalDomain", "Apple Global Domain"] {
            assert_eq!(
                defaults(&m, &["read", alias, "AppleShowAllExtensions"]),
                Output::ok("1\n")
            );
        }
    }

    /// reimpl: `-app NAME` looks an application up; the emulated Mac has none.
    #[test]
    fn app_domain_is_rejected() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["read", "-app", "Safari"]);
        assert_nslog_one_line(
            &out,
            "Couldn't find an application named \"Safari\"; defaults unchanged",
        );
    }

    // ---- delete and rename -------------------------------------------------------------

    /// Reference 1.7: delete a key, then the domain.
    #[test]
    fn delete_key_and_domain() {
        let (_dir, m) = machine();
        ok(&m, &["delete", "com.apple.dock", "autohide"]);
        assert_eq!(
            defaults(&m, &["read", "com.apple.dock", "autohide"]).status,
            1
        );
        assert_eq!(
            defaults(&m, &["read", "com.apple.dock", "tilesize"]),
            Output::ok("48\n")
        );
        ok(&m, &["delete", "com.apple.dock"]);
        assert_eq!(defaults(&m, &["read", "com.apple.dock"]).status, 1);
        assert!(!defaults(&m, &["domains"]).stdout.contains("com.apple.dock"));
    }

    /// Reference 1.7 / reimpl: a missing key or domain is the "not found" message, exit 1.
    #[test]
    fn delete_missing_is_not_found() {
        let (_dir, m) = machine();
        let not_found = "Domain (com.apple.dock) not found.\nDefaults have not been changed.\n";
        assert_nslog_multiline(
            &defaults(&m, &["delete", "com.apple.dock", "nope"]),
            not_found,
        );
        assert_nslog_multiline(
            &defaults(&m, &["delete", "no.such"]),
            "Domain (no.such) not found.\nDefaults have not been changed.\n",
        );
        assert_nslog_multiline(
            &defaults(&m, &["delete", "-g", "nope"]),
            "Domain (kCFPreferencesAnyApplication) not found.\nDefaults have not been changed.\n",
        );
    }

    /// reimpl: delete of a system domain without root fails quietly with 1.
    #[test]
    fn delete_system_domain_without_root_fails() {
        let (_dir, mut m) = machine();
        let domain = "/Library/Preferences/x";
        m.info.uid = 0;
        ok(&m, &["write", domain, "k", "v"]);
        m.info.uid = 501;
        assert_eq!(
            defaults(&m, &["delete", domain, "k"]),
            Output::failed(1, "")
        );
        assert_eq!(defaults(&m, &["read", domain, "k"]), Output::ok("v\n"));
    }

    /// reimpl `defaults.m` (UNCONFIRMED for Apple, reference 1.7): rename and its error.
    #[test]
    fn rename_key() {
        let (_dir, m) = machine();
        ok(&m, &["rename", "com.apple.dock", "tilesize", "size"]);
        assert_eq!(
            defaults(&m, &["read", "com.apple.dock", "size"]),
            Output::ok("48\n")
        );
        assert_eq!(
            defaults(&m, &["read", "com.apple.dock", "tilesize"]).status,
            1
        );
        assert_nslog_one_line(
            &defaults(&m, &["rename", "com.apple.dock", "nope", "x"]),
            "Key nope does not exist in domain com.apple.dock; leaving defaults unchanged",
        );
        assert_nslog_one_line(
            &defaults(&m, &["rename", "-g", "nope", "x"]),
            "Key nope does not exist in domain Apple Global Domain; leaving defaults unchanged",
        );
    }

    // ---- domains, usage ----------------------------------------------------------------

    /// Reference 1.2: one line, ", "-joined, sorted, global domain dropped.
    #[test]
    fn domains_line() {
        let (_dir, m) = machine();
        ok(&m, &["write", "aaa.first", "k", "v"]);
        assert_eq!(
            defaults(&m, &["domains"]),
            Output::ok("aaa.first, com.apple.dock, com.apple.finder, com.apple.universalaccess\n")
        );
    }

    /// reimpl: no arguments → usage, 255; `help` → usage, 0; unknown verb → 255; verbs are
    /// case-insensitive.
    #[test]
    fn usage_help_and_verb_case() {
        let (_dir, m) = machine();
        let none = defaults(&m, &[]);
        assert_eq!(none.status, 255);
        assert!(
            none.stdout
                .contains("  read <domain> <key>                  shows defaults")
        );
        let help = defaults(&m, &["help"]);
        assert_eq!((help.status, help.stdout.as_str()), (0, USAGE));
        assert_eq!(defaults(&m, &["frobnicate", "x"]).status, 255);
        assert_eq!(defaults(&m, &["read-type", "x"]).status, 255);
        assert_eq!(
            defaults(&m, &["READ", "com.apple.dock", "tilesize"]),
            Output::ok("48\n")
        );
    }

    /// reimpl `defaults.m`: `find` counts matches per domain.
    #[test]
    fn find_word() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["find", "GENIE"]);
        assert_eq!(out.status, 0);
        assert!(
            out.stdout
                .starts_with("Found 1 keys in domain 'com.apple.dock': {\n")
        );
        let out = defaults(&m, &["find", "zzz-nothing"]);
        assert_eq!((out.status, out.stdout.as_str()), (0, ""));
        assert!(
            out.stderr
                .ends_with("] No domain, key, nor value containing 'zzz-nothing'\n")
        );
    }

    // ---- export and import -------------------------------------------------------------

    /// Reference 1.8 / fixture defaults-export-dock.xml (with TABs, as aerobounce/defaults.sh
    /// parses it): header, sorted keys, `<true/>`, `<real>0.0</real>`, `<dict/>`, `<array/>`.
    #[test]
    fn export_xml_text() {
        let (_dir, m) = machine();
        save(
            &m,
            "x.e",
            dict(vec![
                ("autohide-delay", real(0.0)),
                ("autohide", Value::Boolean(true)),
                ("empty", Value::Dictionary(Dictionary::new())),
                ("list", Value::Array(vec![int(1), real(0.5)])),
                ("none", Value::Array(vec![])),
                ("blob", Value::Data(vec![0, 1, 2, 3])),
                ("xml", string("a<b>&c")),
            ]),
        );
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>autohide</key>
\t<true/>
\t<key>autohide-delay</key>
\t<real>0.0</real>
\t<key>blob</key>
\t<data>
\tAAECAw==
\t</data>
\t<key>empty</key>
\t<dict/>
\t<key>list</key>
\t<array>
\t\t<integer>1</integer>
\t\t<real>0.5</real>
\t</array>
\t<key>none</key>
\t<array/>
\t<key>xml</key>
\t<string>a&lt;b&gt;&amp;c</string>
</dict>
</plist>
";
        assert_eq!(defaults(&m, &["export", "x.e", "-"]), Output::ok(expected));
    }

    /// CF-style base64 lines: 76 - 8 × depth characters (UNCONFIRMED width, see
    /// `write_xml_data`).
    #[test]
    fn export_data_lines_wrap() {
        let mut out = String::new();
        write_xml_data(&[0xab; 60], 1, &mut out);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "\t<data>");
        assert_eq!(lines[1].len(), 1 + 68);
        assert_eq!(lines[2].len(), 1 + 12);
        assert_eq!(lines[3], "\t</data>");
        assert_eq!(base64(b"bplist"), "YnBsaXN0");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    /// XML reals: `0.0` for zero, `%.17g` otherwise.
    #[test]
    fn export_reals_format() {
        assert_eq!(xml_real(0.0), "0.0");
        assert_eq!(xml_real(0.5), "0.5");
        assert_eq!(xml_real(48.0), "48");
        assert_eq!(xml_real(0.1), "0.10000000000000001");
    }

    /// Reference 1.8 (UNCONFIRMED; reimpl message): exporting a missing domain fails, so
    /// callers can tell "absent" from an export.
    #[test]
    fn export_missing_domain_fails() {
        let (_dir, m) = machine();
        let out = defaults(&m, &["export", "no.such", "-"]);
        assert_nslog_multiline(&out, "The domain no.such does not exist\n");
        let out = defaults(&m, &["export", "no.such"]);
        assert_nslog_multiline(&out, "Need a path to write to\n");
    }

    /// Reference 1.8: `export DOMAIN PATH` writes a binary plist.
    #[test]
    fn export_to_path_is_binary() {
        let (dir, m) = machine();
        let path = dir.path().join("dock-export.plist");
        ok(&m, &["export", "com.apple.dock", path.to_str().unwrap()]);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"bplist00"));
        let value = Value::from_file(&path).unwrap();
        assert_eq!(value, Value::Dictionary(exported(&m, "com.apple.dock")));
    }

    /// Reference 1.8: import from stdin sets the plist's keys and keeps the others (reimpl).
    #[test]
    fn import_stdin_merges_keys() {
        let (_dir, m) = machine();
        let mut incoming = Dictionary::new();
        incoming.insert("tilesize".into(), int(36));
        incoming.insert("new-key".into(), string("v"));
        let xml = xml_document(&incoming);
        let out = defaults_stdin(&m, &["import", "com.apple.dock", "-"], xml.as_bytes());
        assert_eq!(out, Output::ok(""));
        let got = exported(&m, "com.apple.dock");
        assert_eq!(got.get("tilesize"), Some(&int(36)));
        assert_eq!(got.get("new-key"), Some(&string("v")));
        assert_eq!(got.get("orientation"), Some(&string("bottom")));
    }

    /// Reference 1.8 / reimpl: the top level must be a dictionary.
    #[test]
    fn import_non_dict_is_refused() {
        let (_dir, m) = machine();
        let out = defaults_stdin(&m, &["import", "x.i", "-"], b"(a, b)");
        assert_eq!(out.status, 1);
        assert!(
            out.stderr.ends_with(
                "] Property list (\n    a,\n    b\n) was not a dictionary\n\
                 Defaults have not been changed.\n"
            ),
            "{out:?}"
        );
        let out = defaults_stdin(&m, &["import", "x.i", "-"], b"<dict><key>a</key>");
        assert_eq!(out.status, 1);
        assert!(
            out.stderr
                .contains("Could not parse property list from - due to ")
        );
        let out = defaults(&m, &["import", "x.i", "/no/such/file.plist"]);
        assert_nslog_one_line(&out, "Could not read data from /no/such/file.plist");
    }

    /// Export → import round trip (the pattern of public scripts in reference 1.8), through
    /// both the binary file form and stdin, plus old-style text on stdin.
    #[test]
    fn export_import_round_trip() {
        let (dir, m) = machine();
        ok(
            &m,
            &[
                "write",
                "com.apple.dock",
                "when",
                "-date",
                "2024-05-06 07:08:09 +0000",
            ],
        );
        ok(&m, &["write", "com.apple.dock", "blob", "-data", "00ff10"]);
        let path = dir.path().join("dock.plist");
        ok(&m, &["export", "com.apple.dock", path.to_str().unwrap()]);
        ok(&m, &["import", "copy.from.file", path.to_str().unwrap()]);
        let xml = defaults(&m, &["export", "com.apple.dock", "-"]).stdout;
        let out = defaults_stdin(&m, &["import", "copy.from.stdin", "-"], xml.as_bytes());
        assert_eq!(out, Output::ok(""));
        let original = exported(&m, "com.apple.dock");
        assert_eq!(exported(&m, "copy.from.file"), original);
        assert_eq!(exported(&m, "copy.from.stdin"), original);
        let out = defaults_stdin(&m, &["import", "x.old", "-"], b"{ a = \"b c\"; }");
        assert_eq!(out, Output::ok(""));
        assert_eq!(exported_key(&m, "x.old", "a"), string("b c"));
    }

    /// Writing through the emulator leaves a file the plist crate (and a person) can read,
    /// with the stored types intact.
    #[test]
    fn stored_file_keeps_types() {
        let (_dir, m) = machine();
        ok(&m, &["write", "x.s", "f", "-float", "0.5"]);
        let dict = m.load_domain(&Scope::User, "x.s").unwrap().unwrap();
        assert_eq!(dict.get("f"), Some(&real(0.5)));
    }

    // ---- sandboxed apps: containers and Full Disk Access --------------------------------

    fn container_plist(m: &Machine, app: &str) -> std::path::PathBuf {
        m.container_preferences(app).join(format!("{app}.plist"))
    }

    /// Without Full Disk Access (a fresh terminal, every preset) `defaults` cannot see into
    /// Safari's container and uses `~/Library/Preferences/com.apple.Safari.plist`: the write
    /// exits 0 and reads back "converged", while the container Safari reads keeps its value
    /// (nix-darwin/nix-darwin#1111; ikuwow/dotfiles#8; lapcatsoftware.com "macOS Containers and
    /// defaults"). Every preset behaves the same (sources from Catalina to macOS 26).
    #[test]
    fn without_full_disk_access_a_sandboxed_domain_goes_to_library_preferences() {
        for preset in ["m1-8gb-monterey", "m2-16gb-sonoma", "m4max-64gb-sequoia"] {
            let (_dir, m) = mac(preset);
            assert!(!m.info.full_disk_access, "{preset}");
            let container = std::fs::read(container_plist(&m, "com.apple.Safari")).unwrap();
            // The container's value is out of sight: the domain reads as absent.
            let out = defaults(&m, &["read", "com.apple.Safari", "AutoOpenSafeDownloads"]);
            assert_nslog_multiline(
                &out,
                "The domain/default pair of (com.apple.Safari, AutoOpenSafeDownloads) does not exist\n",
            );
            ok(
                &m,
                &[
                    "write",
                    "com.apple.Safari",
                    "AutoOpenSafeDownloads",
                    "-bool",
                    "false",
                ],
            );
            let out = defaults(&m, &["read", "com.apple.Safari", "AutoOpenSafeDownloads"]);
            assert_eq!(out, Output::ok("0\n"), "{preset}: reads back what it wrote");
            let fallback = m.home().join("Library/Preferences/com.apple.Safari.plist");
            let written = Value::from_file(&fallback).unwrap();
            assert_eq!(
                written,
                dict(vec![("AutoOpenSafeDownloads", Value::Boolean(false))])
            );
            assert_eq!(
                std::fs::read(container_plist(&m, "com.apple.Safari")).unwrap(),
                container,
                "{preset}: the container Safari reads is untouched"
            );
        }
    }

    /// With Full Disk Access the domain resolves to the container, where the app reads it
    /// (0xmachos/mOSL#18: "Once Full Disk Access is granted to Terminal.app, the following
    /// will work as expected"; `man defaults`, "filepath", the TextEdit container example).
    #[test]
    fn with_full_disk_access_a_sandboxed_domain_is_its_container() {
        let (_dir, mut m) = machine();
        m.info.full_disk_access = true;
        let out = defaults(&m, &["read", "com.apple.Safari", "AutoOpenSafeDownloads"]);
        assert_eq!(out, Output::ok("1\n"));
        ok(
            &m,
            &[
                "write",
                "com.apple.Safari",
                "AutoOpenSafeDownloads",
                "-bool",
                "false",
            ],
        );
        let container = Value::from_file(container_plist(&m, "com.apple.Safari")).unwrap();
        assert_eq!(
            container,
            dict(vec![("AutoOpenSafeDownloads", Value::Boolean(false))])
        );
        assert!(
            !m.home()
                .join("Library/Preferences/com.apple.Safari.plist")
                .exists()
        );
        // Other domains are where they always were.
        assert_eq!(
            defaults(&m, &["read", "com.apple.dock", "tilesize"]),
            Output::ok("48\n")
        );
    }

    /// A container domain's messages name the container path without `.plist`: fixture
    /// defaults-read-missing-domain-container.txt (p0deje/Maccy#749, macOS 14.4) for a missing
    /// domain; SparkPost/support-docs "Using SparkPost with Mac Mail" for a missing key of
    /// com.apple.mail, whose container holds no preference file on a fresh Mac.
    #[test]
    fn container_domains_are_named_by_their_path_in_messages() {
        let (_dir, mut m) = machine();
        m.info.full_disk_access = true;
        let path = "/Users/admin/Library/Containers/com.apple.mail/Data/Library/Preferences/com.apple.mail";
        assert_nslog_multiline(
            &defaults(&m, &["read", "com.apple.mail"]),
            &format!("Domain {path} does not exist\n"),
        );
        assert_nslog_multiline(
            &defaults(&m, &["read", "com.apple.mail", "UserHeaders"]),
            &format!("The domain/default pair of ({path}, UserHeaders) does not exist\n"),
        );
        // Without Full Disk Access the same reads name the domain as typed.
        m.info.full_disk_access = false;
        assert_nslog_multiline(
            &defaults(&m, &["read", "com.apple.mail"]),
            "Domain com.apple.mail does not exist\n",
        );
    }

    /// machine.json files written before `full_disk_access` existed load as "no Full Disk
    /// Access", a fresh terminal's state.
    #[test]
    fn old_machine_files_have_no_full_disk_access() {
        let (dir, m) = machine();
        let path = dir.path().join(crate::machine::MACHINE_FILE);
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["full_disk_access"], serde_json::json!(false));
        json.as_object_mut().unwrap().remove("full_disk_access");
        std::fs::write(&path, json.to_string()).unwrap();
        let reopened = Machine::open(&m.dir).unwrap();
        assert!(!reopened.info.full_disk_access);
    }
}
