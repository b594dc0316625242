use super::*;

const SECRET: &str = "abc8Q~defghijklmnopqrstuvwxyz0123456789";

fn in_months(m: i8) -> Date {
    jiff::Zoned::now()
        .date()
        .checked_add(jiff::Span::new().months(m))
        .unwrap()
}

fn sample() -> SetupCode {
    SetupCode {
        tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        client_id: "2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58".into(),
        secret: Some(Secret::new(SECRET)),
        secret_expires: Some(in_months(12)),
        redirect_uri: Some("http://localhost/microsoft_outlook/confirm".into()),
        public_client: false,
        admin_consent: true,
        app_only: false,
        mailboxes: vec![],
    }
}

/// A code around `json`, with a correct checksum.
fn wrap(json: &str) -> String {
    let p = URL_SAFE_NO_PAD.encode(json.as_bytes());
    format!("{PREFIX}1:{p}:{}", checksum(&p))
}

#[test]
fn round_trip_and_whitespace() {
    let code = sample().encode();
    assert_eq!(SetupCode::parse(code.expose()).unwrap(), sample());
    let padded = format!("  \n{}\r\n\n", code.expose());
    assert_eq!(SetupCode::parse(&padded).unwrap(), sample());
    // Copied with the heading line above it.
    let with_heading = format!("Setup code (a secret):\n{}", code.expose());
    assert_eq!(SetupCode::parse(&with_heading).unwrap(), sample());
}

#[test]
fn debug_hides_the_secret() {
    let s = format!("{:?}", sample());
    assert!(!s.contains(SECRET), "{s}");
    assert!(!format!("{:?}", sample().encode()).contains("inbound-setup"));
}

#[test]
fn a_wrapped_code_is_joined_when_the_checksum_agrees() {
    let code = sample().encode();
    let text = code.expose();
    let (a, b) = text.split_at(60);
    let (b, c) = b.split_at(70);
    let wrapped = format!("{a}\n{b}\r\n   {c}\n");
    assert_eq!(SetupCode::parse(&wrapped).unwrap(), sample());
}

#[test]
fn a_wrapped_code_with_a_piece_missing_says_wrapped() {
    let code = sample().encode();
    let text = code.expose();
    let lost = format!("{}\n{}", &text[..60], &text[90..]);
    assert_eq!(
        SetupCode::parse(&lost).unwrap_err(),
        SetupCodeError::Wrapped { lines: 2 }
    );
    assert!(
        SetupCodeError::Wrapped { lines: 2 }
            .to_string()
            .contains("broken across 2 lines")
    );
}

#[test]
fn truncation_damage_and_versions_are_named() {
    let code = sample().encode();
    let text = code.expose();
    // Cut inside the payload, inside the checksum, right after the prefix.
    assert_eq!(
        SetupCode::parse(&text[..40]).unwrap_err(),
        SetupCodeError::Truncated
    );
    assert_eq!(
        SetupCode::parse(&text[..text.len() - 3]).unwrap_err(),
        SetupCodeError::Truncated
    );
    assert_eq!(SetupCode::parse(PREFIX).unwrap_err(), SetupCodeError::Truncated);
    assert_eq!(
        SetupCode::parse("inbound-setup:1:").unwrap_err(),
        SetupCodeError::Truncated
    );
    // One character changed in the payload.
    let i = PREFIX.len() + 10;
    let mut bytes = text.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(bytes).unwrap();
    assert_eq!(
        SetupCode::parse(&changed).unwrap_err(),
        SetupCodeError::BadChecksum
    );
    assert_eq!(
        SetupCode::parse(&text.replacen(":1:", ":2:", 1)).unwrap_err(),
        SetupCodeError::UnknownVersion("2".into())
    );
    assert!(matches!(
        SetupCode::parse(&format!("{text}zz")).unwrap_err(),
        SetupCodeError::Damaged(_)
    ));
    assert_eq!(SetupCode::parse("   ").unwrap_err(), SetupCodeError::Empty);
    assert_eq!(SetupCode::parse(SECRET).unwrap_err(), SetupCodeError::NotACode);
    // No message quotes the code or its secret.
    for e in [
        SetupCode::parse(&changed).unwrap_err(),
        SetupCode::parse(SECRET).unwrap_err(),
    ] {
        assert!(!e.to_string().contains(SECRET));
        assert!(!e.to_string().contains(&text[PREFIX.len() + 2..PREFIX.len() + 20]));
    }
}

#[test]
fn checksum_is_the_same_as_sha256sum_cut() {
    // printf %s abc | sha256sum | cut -c1-8
    assert_eq!(checksum("abc"), "ba7816bf");
}

#[test]
fn missing_fields_are_named() {
    let e = SetupCode::parse(&wrap(r#"{"client_id":"2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58"}"#)).unwrap_err();
    assert_eq!(e, SetupCodeError::MissingField("tenant ID"));
    assert!(e.to_string().contains("has no tenant ID"));
    let no_secret = r#"{"tenant":"contoso.com","client_id":"2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58","redirect_uri":"http://localhost/microsoft_outlook/confirm","public_client":false,"admin_consent":false}"#;
    assert_eq!(
        SetupCode::parse(&wrap(no_secret)).unwrap_err(),
        SetupCodeError::MissingField("client secret")
    );
    assert!(matches!(
        SetupCode::parse(&wrap("[1,2]")).unwrap_err(),
        SetupCodeError::Damaged(_)
    ));
}

#[test]
fn fields_are_validated_all_at_once() {
    let json = r#"{"tenant":"not a tenant","client_id":"app","secret":"0f8fad5b-d9cb-469f-a165-70867728950e","secret_expires":"2020-01-01","redirect_uri":"http://evil.example/x","public_client":false,"admin_consent":true}"#;
    let SetupCodeError::Invalid(fields) = SetupCode::parse(&wrap(json)).unwrap_err() else {
        panic!("expected field errors");
    };
    let names: Vec<_> = fields.iter().map(|f| f.field.label()).collect();
    assert_eq!(
        names,
        [
            "Tenant",
            "Azure Client ID",
            "Secret",
            "Secret expires",
            "Redirect URI"
        ]
    );
    let far = SetupCode {
        secret_expires: Some(in_months(25)),
        ..sample()
    };
    let SetupCodeError::Invalid(f) = SetupCode::parse(far.encode().expose()).unwrap_err() else {
        panic!("expected field errors");
    };
    assert!(f[0].message.contains("more than 24 months"));
}

#[test]
fn public_client_and_app_only_codes() {
    let public = SetupCode {
        secret: None,
        secret_expires: None,
        redirect_uri: None,
        public_client: true,
        ..sample()
    };
    assert_eq!(SetupCode::parse(public.encode().expose()).unwrap(), public);
    let app = public.app_input(None, None);
    assert!(app.public_client && app.secret.is_none());

    let app_only = SetupCode {
        redirect_uri: None,
        app_only: true,
        mailboxes: vec!["support@contoso.com".into()],
        ..sample()
    };
    let parsed = SetupCode::parse(app_only.encode().expose()).unwrap();
    assert_eq!(parsed, app_only);
    let server = |u: &str| ServerInput {
        username: u.into(),
        ..ServerInput::default()
    };
    assert!(matches!(
        parsed.server_input(server("other@contoso.com"), None, None),
        Err(SetupCodeError::MailboxNotGranted { .. })
    ));
    let granted = parsed
        .server_input(server("Support@contoso.com"), None, None)
        .unwrap();
    assert_eq!(granted.auth, crate::model::AuthKind::OAuth2App);
    assert!(matches!(granted.app, Some(AppChoice::New(_))));
}

#[test]
fn redirect_advice() {
    let mut settings = crate::model::Settings::default();
    assert_eq!(sample().redirect_advice(&settings), None);
    settings.public_url = Some("https://demo.tasksuite.com".into());
    assert_eq!(
        sample().redirect_advice(&settings).unwrap().fix,
        Some(crate::model::health::Fix::PublicUrl { url: None })
    );
    let public = SetupCode {
        redirect_uri: Some("https://mail.contoso.com/microsoft_outlook/confirm".into()),
        ..sample()
    };
    assert_eq!(
        public
            .redirect_advice(&crate::model::Settings::default())
            .unwrap()
            .fix,
        Some(crate::model::health::Fix::PublicUrl {
            url: Some("https://mail.contoso.com".into())
        })
    );
}

#[test]
fn hostile_fields_are_refused_and_quoted_back_clean_and_short() {
    let hostile = "\u{1b}]0;x\u{7}\u{9b}2J\u{202E}";
    let cases = [
        format!(r#""tenant":"contoso{hostile}.com","client_id":"2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58""#),
        format!(r#""tenant":"contoso.com","client_id":"{}{hostile}""#, "x".repeat(9 * 1024)),
        format!(
            r#""tenant":"contoso.com","client_id":"2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58","redirect_uri":"https://x.example/{hostile}/microsoft_outlook/confirm""#
        ),
        r#""tenant":"contoso.com","client_id":"2c7f5e1a-84b3-4d69-a0e2-9b1c3d7f6a58","redirect_uri":"https://x.example/';touch x;'/microsoft_outlook/confirm""#.to_string(),
    ];
    for fields in cases {
        let json = format!(
            r#"{{{fields},"secret":"{SECRET}","secret_expires":"{}","public_client":false,"admin_consent":true}}"#,
            in_months(3)
        );
        // The long client ID makes the code itself long; the bound is on the pasted text.
        let Err(e) = SetupCode::parse(&wrap(&json)) else {
            panic!("accepted: {fields}");
        };
        let text = e.to_string();
        assert!(
            !text.chars().any(crate::sanitize::is_hostile),
            "raw control or bidi character in {text:?}"
        );
        assert!(text.len() < 1024, "{} bytes: {text}", text.len());
    }
}

#[test]
fn a_code_over_the_limit_is_called_too_long() {
    let long = format!("{}{}", sample().encode().expose(), "A".repeat(MAX_LEN));
    let e = SetupCode::parse(&long).unwrap_err();
    assert!(matches!(e, SetupCodeError::TooLong(_)), "{e:?}");
    assert!(e.to_string().contains("too long"), "{e}");
}
