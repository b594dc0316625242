//! A string of a store file borrowed from the file's bytes where it has no escapes (nearly
//! always): the token cache's entries, and `inbound token`'s look at each server's name and id
//! in `config.json`, so that reading 10,000 entries allocates almost nothing. The cache is parsed on a
//! second thread, whose malloc arena grew a page at a time while it copied every string out:
//! hundreds of `mprotect` calls, each taking the address-space lock that the main thread's page
//! faults need.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    pub fn owned(s: String) -> Self {
        Text(Cow::Owned(s))
    }

    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s.to_string())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s)))
    }
}

/// Account names as [`crate::sanitize::serde_clean::option`] reads them: made peer-safe,
/// borrowed when they already are.
pub mod clean_option {
    use super::Text;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Text<'a>>, D::Error> {
        Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| Text(crate::sanitize::peer_cow(t.0))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_unless_escaped() {
        let json = br#"["plain", "esc\"aped", "\u00e9"]"#;
        let texts: Vec<Text> = serde_json::from_slice(json).unwrap();
        assert!(matches!(texts[0].0, Cow::Borrowed("plain")));
        assert!(matches!(texts[1].0, Cow::Owned(_)));
        assert_eq!(&*texts[1], "esc\"aped");
        assert_eq!(&*texts[2], "é");
        assert_eq!(
            serde_json::to_string(&texts).unwrap(),
            r#"["plain","esc\"aped","é"]"#
        );
    }
}
