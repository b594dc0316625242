//! A timestamp of the token cache as whole nanoseconds since the epoch, in an `i64` when it fits
//! (every date from 1677 to 2262), else as RFC 3339 text. serde_json reads an `i64` on its fast
//! path, while an `i128` (jiff's own nanosecond form) goes through text: 40,000 of these are
//! read on every `list` of 10,000 servers.

use jiff::Timestamp;
use serde::{Deserializer, Serializer, de};

pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    match i64::try_from(t.as_nanosecond()) {
        Ok(n) => s.serialize_i64(n),
        // A hand-edited token file may hold any date jiff takes.
        Err(_) => s.collect_str(t),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    d.deserialize_any(Visitor)
}

struct Visitor;

impl de::Visitor<'_> for Visitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("nanoseconds since the epoch, or an RFC 3339 timestamp")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Timestamp, E> {
        Timestamp::from_nanosecond(i128::from(n)).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Timestamp, E> {
        Timestamp::from_nanosecond(i128::from(n)).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
        s.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T(#[serde(with = "super")] Timestamp);

    #[test]
    fn every_timestamp_survives_the_round_trip() {
        for t in [
            Timestamp::now(),
            Timestamp::UNIX_EPOCH,
            "1969-12-31T23:59:59.999999999Z".parse().unwrap(),
            Timestamp::MIN,
            Timestamp::MAX,
        ] {
            let text = serde_json::to_string(&T(t)).unwrap();
            assert_eq!(serde_json::from_str::<T>(&text).unwrap(), T(t), "{text}");
        }
        assert!(serde_json::from_str::<T>("1.5").is_err());
    }
}
