use super::*;
use proptest::prelude::*;

fn line(description: &str, value: &str, currency: &str) -> DeclarationLine {
    DeclarationLine {
        description: description.into(),
        quantity: 1,
        net_weight_g: 200,
        value: value.into(),
        currency: currency.into(),
        hs_code: None,
        origin_country: None,
    }
}

fn decl(category: ContentsCategory, lines: Vec<DeclarationLine>) -> Declaration {
    Declaration { category, explanation: None, lines, certificates: Vec::new() }
}

fn codes(v: &CustomsVerdict) -> Vec<CustomsCode> {
    v.problems.iter().filter(|p| p.severity == Severity::Error).map(|p| p.code).collect()
}

#[test]
fn threshold_between_cn22_and_cn23() {
    let rates = RateTable::default();
    // (value, currency, form): 300 SDR = 405.41 USD at 0.74 (300 / 0.74 = 405.405…)
    for (value, currency, want, sdr) in [
        ("10.00", "USD", Form::Cn22, "7.40"),
        ("405.40", "USD", Form::Cn22, "299.99"),
        ("405.41", "USD", Form::Cn23, "300.00"),
        ("300", "XDR", Form::Cn22, "300.00"),
        ("300.01", "XDR", Form::Cn23, "300.01"),
        ("2900", "CNY", Form::Cn22, "298.70"),
        ("2920", "CNY", Form::Cn23, "300.76"),
        ("61224", "JPY", Form::Cn22, "299.99"),
        ("61225", "JPY", Form::Cn23, "300.00"),
        ("0", "EUR", Form::Cn22, "0.00"),
    ] {
        let v = check(&decl(ContentsCategory::Gift, vec![line("Cotton T-shirt, men's", value, currency)]), &rates);
        assert!(v.accepted, "{value} {currency}: {:?}", v.problems);
        assert_eq!(v.form, want, "{value} {currency}");
        assert_eq!(v.total_sdr.as_deref(), Some(sdr), "{value} {currency}");
    }
    // exactly 300 SDR is still a CN22; one micro-SDR more is a CN23
    let mut r = RateTable::empty();
    assert!(r.set("USD", "1").is_ok());
    let v = check(&decl(ContentsCategory::Gift, vec![line("Wool scarf", "300.00", "USD")]), &r);
    assert_eq!(v.form, Form::Cn22);
    let v = check(&decl(ContentsCategory::Gift, vec![line("Wool scarf", "300.01", "USD")]), &r);
    assert_eq!(v.form, Form::Cn23);
}

#[test]
fn totals_add_up_over_lines() {
    let v = check(
        &decl(
            ContentsCategory::SaleOfGoods,
            vec![
                DeclarationLine {
                    hs_code: Some("6109.10".into()),
                    origin_country: Some("中国".into()),
                    quantity: 3,
                    ..line("Cotton T-shirts", "200.00", "usd")
                },
                DeclarationLine {
                    hs_code: Some("420221".into()),
                    origin_country: Some("ITA".into()),
                    net_weight_g: 800,
                    ..line("Leather handbag", "250.5", "USD")
                },
            ],
        ),
        &RateTable::default(),
    );
    assert!(v.accepted, "{:?}", v.problems);
    assert_eq!(v.total_value.as_deref(), Some("450.50"));
    assert_eq!(v.currency.as_deref(), Some("USD"));
    assert_eq!(v.form, Form::Cn23);
    assert_eq!(v.total_net_weight_g, 1000);
    assert_eq!(v.lines[0].hs_code.as_deref(), Some("610910"));
    assert_eq!(v.lines[0].origin_country.as_deref(), Some("CN"));
    assert_eq!(v.lines[1].origin_country.as_deref(), Some("IT"));
    assert_eq!(v.lines[1].value, "250.50");
}

#[test]
fn more_lines_than_a_cn22_holds_go_on_a_cn23() {
    let lines = (0..5).map(|i| line(&format!("Paperback novel volume {i}"), "1", "EUR")).collect();
    let v = check(&decl(ContentsCategory::Gift, lines), &RateTable::default());
    assert_eq!(v.form, Form::Cn23);
}

#[test]
fn categories() {
    let rates = RateTable::default();
    for (category, hs, origin, ok) in [
        (ContentsCategory::Gift, None, None, true),
        (ContentsCategory::Documents, None, None, true),
        (ContentsCategory::CommercialSample, Some("851712"), Some("CN"), true),
        (ContentsCategory::CommercialSample, None, Some("CN"), false),
        (ContentsCategory::ReturnedGoods, Some("640399"), None, false),
        (ContentsCategory::SaleOfGoods, Some("640399"), Some("VN"), true),
        (ContentsCategory::SaleOfGoods, None, None, false),
    ] {
        let l = DeclarationLine {
            hs_code: hs.map(Into::into),
            origin_country: origin.map(Into::into),
            ..line("Leather shoes", "50", "EUR")
        };
        let v = check(&decl(category, vec![l]), &rates);
        assert_eq!(v.accepted, ok, "{category:?} {hs:?} {origin:?}: {:?}", v.problems);
    }
    let mut d = decl(ContentsCategory::Other, vec![line("Leather shoes", "50", "EUR")]);
    assert_eq!(codes(&check(&d, &rates)), [CustomsCode::MissingExplanation]);
    d.explanation = Some("Repair and return".into());
    assert!(check(&d, &rates).accepted);
    let json = serde_json::to_string(&ContentsCategory::CommercialSample).unwrap_or_default();
    assert_eq!(json, "\"commercial_sample\"");
}

#[test]
fn line_validation() {
    let rates = RateTable::default();
    for (l, want) in [
        (line("", "1", "USD"), CustomsCode::EmptyDescription),
        (line("   ", "1", "USD"), CustomsCode::EmptyDescription),
        (line("gift", "1", "USD"), CustomsCode::VagueDescription),
        (line("Gifts!", "1", "USD"), CustomsCode::VagueDescription),
        (line("goods", "1", "USD"), CustomsCode::VagueDescription),
        (line("礼物", "1", "USD"), CustomsCode::VagueDescription),
        (line("商品", "1", "USD"), CustomsCode::VagueDescription),
        (line("Spare parts", "1", "USD"), CustomsCode::VagueDescription),
        (line(&"x".repeat(MAX_DESCRIPTION_CHARS + 1), "1", "USD"), CustomsCode::DescriptionTooLong),
        (DeclarationLine { quantity: 0, ..line("Wool scarf", "1", "USD") }, CustomsCode::InvalidQuantity),
        (DeclarationLine { net_weight_g: 0, ..line("Wool scarf", "1", "USD") }, CustomsCode::InvalidWeight),
        (line("Wool scarf", "-1", "USD"), CustomsCode::InvalidValue),
        (line("Wool scarf", "1.234", "USD"), CustomsCode::InvalidValue),
        (line("Wool scarf", "1.5", "JPY"), CustomsCode::InvalidValue),
        (line("Wool scarf", "abc", "USD"), CustomsCode::InvalidValue),
        (line("Wool scarf", "", "USD"), CustomsCode::InvalidValue),
        (line("Wool scarf", "1", "US$"), CustomsCode::InvalidCurrency),
        (line("Wool scarf", "1", "XYZ"), CustomsCode::InvalidCurrency),
        (
            DeclarationLine { origin_country: Some("Atlantis".into()), ..line("Wool scarf", "1", "USD") },
            CustomsCode::UnknownOriginCountry,
        ),
    ] {
        let v = check(&decl(ContentsCategory::Gift, vec![l.clone()]), &rates);
        assert!(!v.accepted, "{l:?}");
        assert_eq!(codes(&v), [want], "{l:?}");
    }
    // specific descriptions that contain a vague word are fine
    for d in ["Gift box of green tea biscuits", "Silk scarf (gift)", "羊毛围巾", "Men's cotton shirts"] {
        assert!(!is_vague(d), "{d}");
    }
    // a 3-decimal currency
    let v = check(&decl(ContentsCategory::Gift, vec![line("Wool scarf", "10.125", "KWD")]), &rates);
    assert_eq!(codes(&v), [CustomsCode::NoRate]);
    assert_eq!(v.total_value.as_deref(), Some("10.125"));
    assert_eq!(v.form, Form::Cn23);
}

#[test]
fn one_currency_per_declaration() {
    let v = check(
        &decl(ContentsCategory::Gift, vec![line("Wool scarf", "1", "USD"), line("Silk tie", "1", "EUR")]),
        &RateTable::default(),
    );
    assert_eq!(codes(&v), [CustomsCode::MixedCurrencies]);
    assert!(v.total_value.is_none());
}

#[test]
fn hs_codes() {
    for (input, want) in [
        ("851712", Ok("851712")),
        ("8517.12", Ok("851712")),
        ("8517 12", Ok("851712")),
        ("0101.21", Ok("010121")),
        ("9706.00", Ok("970600")),
        ("6109100010", Ok("610910")),
        ("85171", Err(())),
        ("12345678901", Err(())),
        ("000000", Err(())),
        ("980000", Err(())),
        ("770000", Err(())),
        ("99xx00", Err(())),
        ("ABCDEF", Err(())),
        ("", Err(())),
    ] {
        assert_eq!(normalise_hs_code(input).map_err(|_| ()), want.map(str::to_string), "{input}");
    }
    let v = check(
        &decl(
            ContentsCategory::Gift,
            vec![DeclarationLine { hs_code: Some("7700.00".into()), ..line("Wool scarf", "1", "USD") }],
        ),
        &RateTable::default(),
    );
    assert_eq!(codes(&v), [CustomsCode::InvalidHsCode]);
}

#[test]
fn restricted_goods_table() {
    use Certificate as C;
    use RestrictionKind as K;
    // (description, hs, kinds, prohibited, certificates)
    type Row = (&'static str, Option<&'static str>, &'static [K], bool, &'static [C]);
    let table: &[Row] = &[
        ("Cash", None, &[K::Cash], true, &[]),
        ("现金 人民币", None, &[K::Cash], true, &[]),
        ("Old banknotes", Some("490700"), &[K::Cash], true, &[]),
        ("Garden soil sample", None, &[K::Soil], true, &[]),
        ("泥土", None, &[K::Soil], true, &[]),
        ("Power bank 10000mAh", None, &[K::LithiumBattery], true, &[]),
        ("充电宝", None, &[K::LithiumBattery], true, &[]),
        (
            "Smartphone with lithium battery",
            Some("851713"),
            &[K::LithiumBattery],
            false,
            &[C::BatteryDeclaration, C::Msds],
        ),
        ("Laptop computer", None, &[K::LithiumBattery], false, &[C::BatteryDeclaration, C::Msds]),
        ("笔记本电脑", None, &[K::LithiumBattery], false, &[C::BatteryDeclaration, C::Msds]),
        ("Perfume 50ml", None, &[K::Liquid], true, &[]),
        ("香水", None, &[K::Liquid], true, &[]),
        ("Red wine", Some("220421"), &[K::Liquid], false, &[C::Msds]),
        ("Shampoo", None, &[K::Liquid], false, &[C::Msds]),
        ("Medicine for cold", None, &[K::Medicine], false, &[C::PrescriptionOrImportLicence]),
        ("中药 胶囊", None, &[K::Medicine], false, &[C::PrescriptionOrImportLicence]),
        ("Vitamin tablets", Some("300450"), &[K::Medicine], false, &[C::PrescriptionOrImportLicence]),
        ("Vegetable seeds", None, &[K::Seeds], false, &[C::Phytosanitary, C::ImportPermit]),
        ("花卉种子", None, &[K::Seeds], false, &[C::Phytosanitary, C::ImportPermit]),
        ("Dried flowers", None, &[K::PlantProduct], false, &[C::Phytosanitary]),
        ("Green tea leaves", Some("090210"), &[K::PlantProduct], false, &[C::Phytosanitary]),
        ("茶叶", None, &[K::PlantProduct], false, &[C::Phytosanitary]),
        ("Live plant", Some("060290"), &[K::PlantProduct], false, &[C::Phytosanitary]),
        ("Beef jerky", None, &[K::AnimalProduct], false, &[C::VeterinaryHealth]),
        ("牛肉干", None, &[K::AnimalProduct], false, &[C::VeterinaryHealth]),
        ("Milk powder", Some("040221"), &[K::AnimalProduct], false, &[C::VeterinaryHealth]),
        ("燕窝", None, &[K::AnimalProduct], false, &[C::VeterinaryHealth]),
        ("Chocolate bars", Some("180632"), &[K::Food], false, &[]),
        ("月饼", None, &[K::Food], false, &[]),
        ("Cotton T-shirt", Some("610910"), &[], false, &[]),
        ("Phone case, silicone", None, &[], false, &[]),
        ("Toy fish, plush", None, &[], false, &[]),
        ("Book about tea ceremonies", None, &[], false, &[]),
        ("Hammer", None, &[], false, &[]),
        ("Teapot, porcelain", None, &[], false, &[]),
        ("Tea cups, set of 6", None, &[], false, &[]),
        ("Oil painting on canvas", None, &[], false, &[]),
        ("Rice cooker", None, &[], false, &[]),
        ("Battery charger", None, &[], false, &[]),
        ("Camera lens 50mm", None, &[], false, &[]),
        ("Olive oil, 500 ml bottle", None, &[K::Liquid], false, &[C::Msds]),
    ];
    for (desc, hs, kinds, prohibited, certs) in table {
        let r = restrictions(0, desc, *hs);
        let got: Vec<K> = r.iter().map(|x| x.kind).collect();
        assert_eq!(&got, kinds, "{desc}");
        assert_eq!(r.iter().any(|x| x.prohibited), *prohibited, "{desc}");
        let mut c: Vec<C> = r.iter().flat_map(|x| x.certificates.clone()).collect();
        c.sort();
        c.dedup();
        let mut want = certs.to_vec();
        want.sort();
        assert_eq!(c, want, "{desc}");
    }
}

#[test]
fn prohibited_and_missing_certificates_block_acceptance() {
    let rates = RateTable::default();
    let v = check(&decl(ContentsCategory::Gift, vec![line("Cash in envelope", "100", "USD")]), &rates);
    assert!(!v.accepted);
    assert_eq!(codes(&v), [CustomsCode::Prohibited]);

    let mut d = decl(ContentsCategory::Gift, vec![line("Vegetable seeds", "5", "USD")]);
    let v = check(&d, &rates);
    assert!(!v.accepted);
    assert_eq!(codes(&v), [CustomsCode::MissingCertificate, CustomsCode::MissingCertificate]);
    assert_eq!(v.required_certificates, [Certificate::Phytosanitary, Certificate::ImportPermit]);
    // a line needing a certificate goes on a CN23 even under 300 SDR
    assert_eq!(v.form, Form::Cn23);
    d.certificates = vec![Certificate::Phytosanitary];
    assert_eq!(codes(&check(&d, &rates)), [CustomsCode::MissingCertificate]);
    d.certificates = vec![Certificate::Phytosanitary, Certificate::ImportPermit];
    let v = check(&d, &rates);
    assert!(v.accepted, "{:?}", v.problems);

    // food: a warning, not a block
    let v = check(&decl(ContentsCategory::Gift, vec![line("Mooncakes, sealed box of 4", "30", "CNY")]), &rates);
    assert!(v.accepted);
    assert!(v.problems.iter().any(|p| p.code == CustomsCode::Notice && p.severity == Severity::Warning));
    assert_eq!(v.form, Form::Cn22);
}

#[test]
fn rate_table_is_configuration() {
    let mut r = RateTable::default();
    assert_eq!(r.rate("USD"), Some(740_000));
    assert!(r.apply("USD=0.70, eur=0.9\nJPY=0.0051").is_ok());
    assert_eq!(r.rate("USD"), Some(700_000));
    assert_eq!(r.rate("EUR"), Some(900_000));
    assert_eq!(r.rate("JPY"), Some(5_100));
    assert!(r.apply("USD").is_err());
    assert!(r.apply("ABC=1").is_err());
    assert!(r.apply("USD=-1").is_err());
    assert!(r.apply("USD=0").is_err());
    assert!(r.apply("USD=0.0000001").is_err());
    assert_eq!(RateTable::empty().to_micro_sdr("USD", 100), None);
    for (c, _) in DEFAULT_RATES {
        assert!(currency_exponent(c).is_some(), "{c}");
    }
}

#[test]
fn decimals() {
    assert_eq!(parse_decimal("12.5", 2), Some(1250));
    assert_eq!(parse_decimal("0", 2), Some(0));
    assert_eq!(parse_decimal(".5", 2), Some(50));
    assert_eq!(parse_decimal("5.", 2), Some(500));
    assert_eq!(parse_decimal(".", 2), None);
    assert_eq!(parse_decimal("1e3", 2), None);
    assert_eq!(parse_decimal("1.999", 2), None);
    assert_eq!(format_decimal(1250, 2), "12.50");
    assert_eq!(format_decimal(5, 3), "0.005");
}

proptest! {
    #[test]
    fn check_never_panics(
        desc in "\\PC{0,40}",
        value in "[0-9.\\-a-z]{0,24}",
        currency in "[A-Za-z$]{0,4}",
        hs in proptest::option::of("[0-9. ]{0,12}"),
        origin in proptest::option::of("\\PC{0,6}"),
        qty in 0u32..5,
        w in 0u32..5000,
        n in 0usize..6,
    ) {
        let l = DeclarationLine { description: desc, quantity: qty, net_weight_g: w, value, currency, hs_code: hs, origin_country: origin };
        let v = check(&decl(ContentsCategory::SaleOfGoods, vec![l; n]), &RateTable::default());
        prop_assert_eq!(v.accepted, !v.problems.iter().any(|p| p.severity == Severity::Error));
        if v.form == Form::Cn22 {
            prop_assert!(v.accepted || !v.problems.is_empty());
        }
    }

    #[test]
    fn form_follows_the_threshold(cents in 0u64..100_000_000) {
        let mut r = RateTable::empty();
        prop_assert!(r.set("XDR", "1").is_ok());
        let value = format!("{}.{:02}", cents / 100, cents % 100);
        let v = check(&decl(ContentsCategory::Gift, vec![line("Wool scarf", &value, "XDR")]), &r);
        let want = if cents <= 30_000 { Form::Cn22 } else { Form::Cn23 };
        prop_assert_eq!(v.form, want);
    }
}
