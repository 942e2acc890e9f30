//! The field a JSON parse error is about, as `process.args[0]`: found by walking the
//! document's text up to where serde_json stopped, so the config types are deserialized
//! by one plain serde_json deserializer (a path-tracking wrapper doubled that code in the
//! binary, about 250 KiB of 1.9 MiB).

/// The path, in `json`, of the value serde_json's error `e` is about; `None` when `json`
/// is not JSON at all.
pub fn of_error(json: &[u8], e: &serde_json::Error) -> Option<String> {
    use serde_json::error::Category;
    let at = offset(json, e.line(), e.column()).min(json.len());
    let (end, container) = match e.classify() {
        // A value of the wrong type, a missing field (its object read to the `}`), a
        // duplicate field (its key read): serde_json's position is where its reader
        // stands, one past the last byte it consumed; the byte there, a `[` or `{` it
        // only peeked at, is not part of the path.
        Category::Data => (at, false),
        // Some type errors are syntax errors to serde_json: an enum given a number or an
        // array (`expected value`), a struct given as an array with too many elements
        // (`trailing characters`). Those positions are one past the byte peeked at.
        Category::Syntax | Category::Eof
            if serde_json::from_slice::<serde::de::IgnoredAny>(json).is_ok() =>
        {
            (
                at.saturating_sub(1),
                e.to_string().starts_with("trailing characters"),
            )
        }
        _ => return None,
    };
    let frames = walk(&json[..end]);
    let upto = if container {
        frames.len().saturating_sub(1)
    } else {
        frames.len()
    };
    let mut path = String::new();
    for frame in &frames[..upto] {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    Some(path)
}

/// serde_json's line (1-based) and column (bytes after the line's start) as an offset.
fn offset(json: &[u8], line: usize, column: usize) -> usize {
    let line_start = json
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| if line > 1 { i + 1 } else { 0 });
    line_start + column
}

/// An object or array open at the end of the text walked: the key whose value is being
/// read in it (a key counts once its `:` is read: an error just after a key, as a
/// duplicate field, is about the object), or the index of the element being read.
enum Frame {
    Object {
        key: Option<String>,
        pending: Option<String>,
        want_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The objects and arrays open at the end of `text`, outermost first.
fn walk(text: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'{' => frames.push(Frame::Object {
                key: None,
                pending: None,
                want_key: true,
            }),
            b'[' => frames.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key, want_key, .. }) => {
                    *key = None;
                    *want_key = true;
                }
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { key, pending, .. }) = frames.last_mut() {
                    *key = pending.take();
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object {
                    pending, want_key, ..
                }) = frames.last_mut()
                {
                    if *want_key && i < text.len() {
                        *pending = serde_json::from_slice(&text[start..=i]).ok();
                        *want_key = false;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path of the error from parsing `json` as `T`.
    fn path<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        let e = serde_json::from_str::<T>(json).unwrap_err();
        of_error(json.as_bytes(), &e).unwrap()
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        #[serde(default)]
        list: Vec<Item>,
        #[serde(default)]
        inner: Option<Box<Doc>>,
        #[serde(default)]
        n: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        #[serde(default)]
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Kind {
        A,
    }

    #[test]
    fn value_errors_name_the_value() {
        assert_eq!(path::<Doc>(r#"{"n": "x"}"#), "n");
        assert_eq!(path::<Doc>(r#"{"n":1,"inner":{"n":-1}}"#), "inner.n");
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a"},{"name":7}]}"#),
            "list[1].name"
        );
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a","kind":"B"}]}"#),
            "list[0].kind"
        );
        assert_eq!(
            path::<Doc>("{\n  \"list\": [\n    {\"name\": \"a\", \"kind\": \"B\"}\n  ]\n}"),
            "list[0].kind"
        );
        assert_eq!(path::<Doc>(r#"{"inner": 5}"#), "inner");
        assert_eq!(path::<Doc>(r#"{"inner": [1]}"#), "inner[0]");
        assert_eq!(path::<Doc>(r#"{"list": {"name": "x"}}"#), "list");
        assert_eq!(
            path::<Doc>(r#"{"list": [{"name": "a\"}b", "kind": 1}]}"#),
            "list[0].kind"
        );
        assert_eq!(
            path::<Doc>(r#"{"n": 1, "inner": {"list": [{"name": ["x"]}]}}"#),
            "inner.list[0].name"
        );
    }

    #[test]
    fn a_missing_field_names_its_object() {
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a"},{"kind":"A"}]}"#),
            "list[1]"
        );
        assert_eq!(path::<Doc>(r#"{"inner": {"list": [{}]}}"#), "inner.list[0]");
        assert_eq!(path::<Item>(r#"{}"#), "");
    }

    #[test]
    fn a_bracket_serde_json_only_peeked_at_is_not_read() {
        // serde_json stands on the `[` or `{` of a value of the wrong type.
        assert_eq!(path::<Doc>(r#"{"list":[{}]}"#), "list[0]");
        assert_eq!(path::<Doc>(r#"{"list":[{"name":"a"},[]]}"#), "list[1]");
        assert_eq!(path::<Doc>(r#"{"list":[{"name":[]}]}"#), "list[0].name");
        assert_eq!(path::<Vec<String>>(r#"[{}]"#), "[0]");
    }

    #[test]
    fn an_error_just_after_a_key_names_its_object() {
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a","name":"b"}]}"#),
            "list[0]"
        );
        assert_eq!(path::<Doc>(r#"{"n":1,"n" :2}"#), "");
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a","kind":{"B":null}}]}"#),
            "list[0].kind"
        );
    }

    #[test]
    fn type_errors_serde_json_calls_syntax_errors_are_named() {
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a","kind":7}]}"#),
            "list[0].kind"
        );
        assert_eq!(
            path::<Doc>(r#"{"list":[{"name":"a","kind":[]}]}"#),
            "list[0].kind"
        );
        assert_eq!(path::<Doc>(r#"{"list":[["a",null,0]]}"#), "list[0]");
        // Not JSON: no path.
        let e = serde_json::from_str::<Doc>(r#"{"n":1,}"#).unwrap_err();
        assert_eq!(of_error(br#"{"n":1,}"#, &e), None);
    }

    #[test]
    fn escaped_keys_are_read_as_json() {
        assert_eq!(path::<Doc>(r#"{"inner": {"\u006e": "x"}}"#), "inner.n");
    }
}
