//! Recognition tests. Sample numbers are either the carriers' published examples or built here
//! from the published format and check-digit rule (the check digit computed by the rule).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use proptest::prelude::*;

/// Detects and asserts the named carrier, service and validity.
#[track_caller]
fn named(input: &str, carrier: &str, service: &str, valid: bool) -> Detection {
    let d = detect(input);
    assert_eq!(d.carrier.as_deref(), Some(carrier), "{input}: {d:#?}");
    assert_eq!(d.service.as_deref(), Some(service), "{input}: {d:#?}");
    assert_eq!(d.valid, valid, "{input}: {d:#?}");
    assert_eq!(d.input, input);
    assert!(d.carrier_name.is_some() && d.carrier_name_zh.is_some());
    assert_eq!(d.reason, None, "{input}: {d:#?}");
    d
}

#[track_caller]
fn refused(input: &str, reason_contains: &str) {
    let d = detect(input);
    assert_eq!(d.carrier, None, "{input}: {d:#?}");
    assert!(!d.valid, "{input}");
    assert!(d.candidates.is_empty(), "{input}: {d:#?}");
    assert_eq!(d.tracking_number, None, "{input}");
    let reason = d.reason.unwrap_or_default();
    assert!(reason.contains(reason_contains), "{input}: {reason}");
}

/// Replaces the character at `i` (a digit) with `d`.
fn with_digit(s: &str, i: usize, d: u8) -> String {
    let mut v = s.as_bytes().to_vec();
    v[i] = d;
    String::from_utf8(v).unwrap()
}

/// Builds an S10 identifier from its parts with the check digit of the S10 rule.
fn s10_id(si: &str, serial: &str, cc: &str) -> String {
    format!("{si}{serial}{}{cc}", check::s10(serial).unwrap())
}

fn with_check(payload: &str, f: fn(&str) -> Option<char>) -> String {
    format!("{payload}{}", f(payload).unwrap())
}

#[test]
fn upu_s10_items_name_the_postal_operator() {
    let d = named("RR473124829GB", "royal-mail", "Registered letter", true);
    assert_eq!(d.tracking_number.as_deref(), Some("RR473124829GB"));
    assert_eq!(d.check_digit, CheckDigit::Verified);
    named("EA123456785CN", "ems", "EMS", true);
    named("RR123456785CN", "china-post", "Registered letter", true);
    named("CP123456785CN", "china-post", "Parcel post", true);
    named("LX123456785DE", "deutsche-post", "Letter post express (tracked)", true);
    named("EE123456785JP", "japan-post", "EMS", true);
    named("CP123456785US", "usps", "Parcel post", true);
    named("RR123456785AU", "australia-post", "Registered letter", true);
    named("RR123456785CA", "canada-post", "Registered letter", true);
    named("UA123456785HK", "hongkong-post", "Letter post (customs)", true);
    named("VV123456785FR", "la-poste", "Insured letter", true);
    named("HA123456785SG", "singpost", "E-commerce parcel", true);
    // A country without a listed operator still gets a stable id.
    let d = named("RR123456785ZM", "post-zm", "Registered letter", true);
    assert_eq!(d.carrier_name.as_deref(), Some("Postal operator (ZM)"));
    // The rule's special remainders: 0 → 5 and 1 → 0.
    named(&s10_id("RR", "00000000", "GB"), "royal-mail", "Registered letter", true);
    assert!(s10_id("RR", "00000000", "GB").starts_with("RR000000005"));
    // One digit off: still recognisably S10, but not valid.
    let d = named("RR473124828GB", "royal-mail", "Registered letter", false);
    assert_eq!(d.check_digit, CheckDigit::Mismatch);
    named("RR473124839GB", "royal-mail", "Registered letter", false);
    // Not a country: not S10.
    let d = detect("RR123456785XQ");
    assert_eq!(d.carrier, None);
    assert!(d.candidates.is_empty());
    assert_eq!(d.tracking_number.as_deref(), Some("RR123456785XQ"));
}

#[test]
fn tnt_consignments() {
    named(&s10_id("GE", "12345678", "WW"), "tnt", "International express", true);
    named("GE123456784WW", "tnt", "International express", false);
}

#[test]
fn ups_1z() {
    let d = named("1Z999AA10123456784", "ups", "Next Day Air", true);
    assert_eq!(d.tracking_number.as_deref(), Some("1Z999AA10123456784"));
    named("1z 999 aa1 01 2345 6784", "ups", "Next Day Air", true);
    named("1Z5R89390357567127", "ups", "Ground", true);
    named("1Z999AA10123456785", "ups", "Next Day Air", false);
    named(&format!("1Z{}", with_check("ABC123020000001", check::ups)), "ups", "2nd Day Air", true);
}

#[test]
fn fedex_formats() {
    let d = detect("986578788855");
    assert_eq!(d.candidates[0].carrier, "fedex", "{d:#?}");
    assert_eq!(d.candidates[0].service, "Express");
    assert!(d.valid);
    for n in ["477179081230", "799531274483", "790535312317", "974367662710"] {
        let d = detect(n);
        assert_eq!(d.candidates[0].carrier, "fedex", "{n}: {d:#?}");
        assert!(d.candidates[0].valid);
    }
    // A 12-digit number whose FedEx check fails is not offered as FedEx.
    assert!(detect("996578788855").candidates.iter().all(|c| c.carrier != "fedex"));
    named("449044304137821", "fedex", "Ground", true);
    named("568283610012000", "fedex", "Ground", true);
    let d = named("9611020987654312345672", "fedex", "Ground", true);
    assert_eq!(d.tracking_number.as_deref(), Some("987654312345672"));
    named("9611020987654312345673", "fedex", "Ground", false);
    let d = named("1001901781990001000300617767839437", "fedex", "Express", true);
    assert_eq!(d.tracking_number.as_deref(), Some("617767839437"));
    named("1001901781990001000300617767839438", "fedex", "Express", false);
    let d = named("9622001900000000000000776632517510", "fedex", "Ground", true);
    assert_eq!(d.tracking_number.as_deref(), Some("776632517510"));
    named("9261292700768711948021", "fedex", "SmartPost / Ground Economy", true);
    named("9261292700768711948020", "fedex", "SmartPost / Ground Economy", false);
    let d = detect("61299998820821171811");
    assert_eq!(d.candidates[0].carrier, "fedex", "{d:#?}");
    assert!(d.candidates[0].valid);
}

#[test]
fn usps_impb_and_routing_prefix() {
    named("9400111201080805483016", "usps", "IMpb", true);
    named("9400 1112 0108 0805 4830 16", "usps", "IMpb", true);
    named("9400111201080805483017", "usps", "IMpb", false);
    named("92748931507708513018050063", "usps", "IMpb", true);
    // "420" + ZIP5 and "420" + ZIP+4 routing prefixes are not part of the tracking number.
    let d = named("420 22153 9101026837331000039521", "usps", "IMpb", true);
    assert_eq!(d.tracking_number.as_deref(), Some("9101026837331000039521"));
    let d = named("4201002334249200190132607600833457", "usps", "IMpb", true);
    assert_eq!(d.tracking_number.as_deref(), Some("9200190132607600833457"));
    // The same as GS1 element strings: parenthesised, and as a GS1-128 scan with FNC1.
    let d = named("(420)100233424(92)00190132607600833457", "usps", "IMpb", true);
    assert_eq!(d.tracking_number.as_deref(), Some("9200190132607600833457"));
    let d = named("]C1420100233424\u{1d}9200190132607600833457", "usps", "IMpb", true);
    assert_eq!(d.tracking_number.as_deref(), Some("9200190132607600833457"));
    // A routed FedEx SmartPost number.
    let d = detect("4201028200009261290113185417468510");
    assert_eq!(d.tracking_number.as_deref(), Some("9261290113185417468510"));
    assert_eq!(d.carrier.as_deref(), Some("fedex"));
    assert!(d.candidates.iter().any(|c| c.carrier == "usps"));
    // Legacy 20-digit numbers.
    named("7196 9010 7560 0307 7385", "usps", "Certified Mail", true);
    named("0307 1790 0005 2348 3741", "usps", "Legacy 20-digit", true);
}

#[test]
fn dhl_formats() {
    named("3318810025", "dhl", "Express", true);
    named("73891051146", "dhl", "Express", true);
    // A DHL Express number with a wrong check digit matches nothing.
    let d = detect("3318810024");
    assert_eq!(d.carrier, None);
    assert!(!d.valid);
    assert_eq!(d.tracking_number.as_deref(), Some("3318810024"));
    named("JJD1410302937991", "dhl", "Parcel (JJD)", true);
    named("JD014600003827494736", "dhl", "Express piece ID", true);
    named("GM2951173225174494", "dhl", "eCommerce", true);
    named("JVGL0999999990", "dhl", "Parcel Benelux", true);
    let d = named("00340433836442636597", "dhl", "Paket (SSCC)", true);
    assert_eq!(d.tracking_number.as_deref(), Some("00340433836442636597"));
    named("(00)340433836442636597", "dhl", "Paket (SSCC)", true);
    named("(00)340433836442636598", "dhl", "Paket (SSCC)", false);
    let d = detect("201298452277");
    assert!(d.candidates.iter().any(|c| c.carrier == "dhl" && c.service == "Paket (Identcode)" && c.valid));
}

#[test]
fn sscc_of_another_company() {
    let sscc = with_check("10614141000000001", check::gs1);
    let d = detect(&format!("(00){sscc}"));
    assert_eq!(d.carrier, None);
    assert!(d.valid);
    assert_eq!(d.service.as_deref(), Some("SSCC-18"));
    assert_eq!(d.tracking_number.as_deref(), Some(sscc.as_str()));
    assert!(d.reason.unwrap_or_default().contains("SSCC"));
}

#[test]
fn european_parcel_carriers() {
    let d = named("008182709980000020033350276C", "dpd", "8:30", true);
    assert_eq!(d.tracking_number.as_deref(), Some("09980000020033"));
    named("008182709980000020033350276A", "dpd", "8:30", false);
    let d = named("%008182709980000020033350276", "dpd", "8:30", true);
    assert_eq!(d.tracking_number.as_deref(), Some("09980000020033"));
    let d = named("01015026003653C", "dpd", "Parcel", true);
    assert_eq!(d.tracking_number.as_deref(), Some("01015026003653"));
    named("01015026003653D", "dpd", "Parcel", false);
    let gls = with_check("10682345678", check::gls);
    let d = detect(&gls);
    assert!(d.candidates.iter().any(|c| c.carrier == "gls" && c.valid), "{d:#?}");
    assert!(detect(&with_check("10682345678", check::gs1)).candidates.iter().all(|c| c.carrier != "gls"));
    let d = detect("09133131530724");
    assert!(d.candidates.iter().any(|c| c.carrier == "hermes" && c.valid), "{d:#?}");
    named("3SABCD1234567", "postnl", "Parcel", true);
    named("6A12345678901", "la-poste", "Colissimo", true);
    named("AB1234567", "parcelforce", "UK parcel", true);
    named("ABCD1234567890", "parcelforce", "UK parcel", true);
    named("JD0002242617644732", "yodel", "Parcel", true);
}

#[test]
fn americas_and_asia_pacific_carriers() {
    named("0073938000549297", "canada-post", "Domestic parcel", true);
    // A bare 16-digit number whose check fails is no evidence of Canada Post.
    assert_eq!(detect("0073938000549292").carrier, None);
    named("TBA502887274000", "amazon", "Logistics", true);
    named("C11031500001879", "ontrac", "Ground", true);
    named("D10011354453707", "ontrac", "Ground", true);
    named("C11031500001889", "ontrac", "Ground", false);
    named("1LS717793482164", "lasership", "Parcel", true);
    named("LX17635036", "lasership", "Parcel", true);
    named("KYV009956937", "purolator", "Express", true);
    let d = detect("320595463938");
    assert!(d.candidates.iter().any(|c| c.carrier == "purolator" && c.valid), "{d:#?}");
    named("ABC0012345010126", "australia-post", "eParcel", true);
    let d = named("99700131ABC001234501012603000", "australia-post", "eParcel", true);
    assert_eq!(d.tracking_number.as_deref(), Some("ABC0012345010126"));
    named("YT2229521272164446", "yunexpress", "International", true);
}

#[test]
fn japanese_numbers_are_ambiguous_between_three_carriers() {
    for n in ["405548424886", "444413758703"] {
        let d = detect(n);
        assert_eq!(d.carrier, None, "{n}: {d:#?}");
        assert!(d.valid, "{n}");
        assert_eq!(d.tracking_number.as_deref(), Some(n));
        let ids: Vec<&str> = d.candidates.iter().map(|c| c.carrier.as_str()).collect();
        for id in ["japan-post", "yamato", "sagawa"] {
            assert!(ids.contains(&id), "{n}: {ids:?}");
        }
        assert!(d.reason.unwrap_or_default().contains("several carriers"));
        // Ranked best first.
        assert!(d.candidates.windows(2).all(|w| w[0].confidence >= w[1].confidence));
    }
}

#[test]
fn chinese_carriers() {
    named("SF1234567890123", "sf-express", "Express", true);
    named("sf 1234 5678 9012", "sf-express", "Express", true);
    named("ＳＦ１２３４５６７８９０１２", "sf-express", "Express", true);
    named("JD0012345678901", "jd", "Express", true);
    named("JDVA12345678901", "jd", "Express", true);
    named("JDX000123456789", "jd", "Express", true);
    named("YT1234567890123", "yto", "Express", true);
    named("JT1234567890123", "jt-express", "Express", true);
    named("DPK123456789012", "deppon", "Express", true);
    named("LP00123456789012", "cainiao", "Global", true);
    let d = named("SF1234567890123", "sf-express", "Express", true);
    assert_eq!(d.check_digit, CheckDigit::NoCheckDigit);
    assert_eq!(d.carrier_name_zh.as_deref(), Some("顺丰速运"));
    // All-digit waybills: by length and prefix.
    let d = detect("7731234567890");
    assert_eq!(d.candidates[0].carrier, "sto", "{d:#?}");
    let d = detect("4312345678901");
    assert_eq!(d.candidates[0].carrier, "yunda", "{d:#?}");
    let d = detect("75123456789012");
    assert!(d.candidates.iter().any(|c| c.carrier == "zto"), "{d:#?}");
}

#[test]
fn ambiguous_numbers_leave_the_carrier_open() {
    // 13 digits starting 31: ZTO and Yunda both print such numbers.
    let d = detect("3112345678902");
    let ids: Vec<&str> = d.candidates.iter().map(|c| c.carrier.as_str()).collect();
    assert!(ids.contains(&"zto") && ids.contains(&"yunda"), "{ids:?}");
    assert_eq!(ids[0], "yunda");
    // JJD + 16 digits: Yodel and DHL.
    let d = detect("JJD0002257639032011");
    assert_eq!(d.carrier, None, "{d:#?}");
    let ids: Vec<&str> = d.candidates.iter().map(|c| c.carrier.as_str()).collect();
    assert!(ids.contains(&"yodel") && ids.contains(&"dhl"), "{ids:?}");
    // Every candidate carries its own reading and validity.
    for c in &d.candidates {
        assert!(c.valid && c.confidence > 0.0 && c.confidence <= 1.0);
        assert_eq!(c.check_digit, CheckDigit::NoCheckDigit);
    }
}

#[test]
fn product_codes_are_refused() {
    // EAN-13 (GS1 examples, a Chinese product, an ISBN) and UPC-A.
    refused("4006381333931", "EAN-13");
    refused("6901234567892", "EAN-13");
    refused("9780306406157", "EAN-13");
    refused("036000291452", "UPC-A");
    refused("012345678905", "UPC-A");
    // EAN-8 and UPC-E.
    refused("96385074", "EAN-8");
    refused("01234565", "UPC-E");
    // By symbology identifier, and by GS1 AI 01.
    refused("]E04006381333931", "EAN/UPC");
    refused("(01)09501101530003(17)250101(10)AB12", "GTIN");
    // A 13-digit code with a wrong GS1 check digit is not a product code.
    assert!(detect("4006381333932").reason.unwrap_or_default().contains("no known carrier"));
}

#[test]
fn asset_tags_and_other_non_tracking_input_are_refused() {
    refused("ASSET-000123", "asset");
    refused("asset 4471", "asset");
    refused("INV-2024-00017", "asset");
    refused("TAG:77812", "asset");
    refused("7K3Q-9XTB", "too short");
    refused("12345", "too short");
    refused("https://example.com/track?id=1", "web address");
    refused("SF1234567890 顺丰", "characters");
    refused("", "empty");
    refused("   --  ", "empty");
    refused(&"1".repeat(300), "longer than 256");
    refused(&"1".repeat(60), "longer than any tracking number");
}

#[test]
fn noise_is_stripped() {
    for input in [
        "1Z999AA10123456784",
        " 1z999aa10123456784\n",
        "1Z-999-AA1-01-2345-6784",
        "]C01Z999AA10123456784",
        "*1Z999AA10123456784*",
    ] {
        let d = named(input, "ups", "Next Day Air", true);
        assert_eq!(d.tracking_number.as_deref(), Some("1Z999AA10123456784"), "{input}");
    }
}

#[test]
fn the_carrier_table_is_consistent() {
    let mut ids: Vec<&str> = CARRIERS.iter().map(|c| c.id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate carrier ids");
    assert!(n >= 30);
    for c in CARRIERS {
        assert!(c.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", c.id);
        assert!(!c.name.is_empty() && !c.name_zh.is_empty());
    }
    for (cc, id) in S10_OPERATORS {
        assert!(carrier_names(id).is_some(), "{cc} → {id}");
    }
    assert_eq!(carrier_names("nope"), None);
    assert_eq!(carrier_names("China_Post").map(|n| n.1), Some("中国邮政".to_string()), "rate-table spelling");
}

#[test]
fn json_shape() {
    let v = serde_json::to_value(detect("1Z999AA10123456784")).unwrap();
    for key in ["input", "tracking_number", "carrier", "carrier_name", "service", "valid", "candidates", "check_digit"]
    {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert!(v.get("reason").is_none());
    assert_eq!(v["check_digit"], "verified");
    assert_eq!(v["candidates"][0]["carrier"], "ups");
    let v = serde_json::to_value(detect("4006381333931")).unwrap();
    assert_eq!(v["carrier"], serde_json::Value::Null);
    assert_eq!(v["valid"], false);
    assert_eq!(v["check_digit"], "none");
    assert!(v["reason"].is_string());
}

/// The weighted S10 remainder, computed independently of the implementation.
fn s10_remainder(serial: &[u8]) -> u32 {
    serial.iter().zip([8, 6, 4, 2, 3, 5, 9, 7]).map(|(d, w)| u32::from(d - b'0') * w).sum::<u32>() % 11
}

fn s10_parts() -> impl Strategy<Value = (String, String, String)> {
    let si = prop::sample::select(vec!["EA", "EE", "CP", "RR", "RB", "LX", "LZ", "VV", "UA", "HA"]);
    let cc = prop::sample::select(S10_OPERATORS.iter().map(|(c, _)| *c).collect::<Vec<_>>());
    (si, "[0-9]{8}", cc).prop_map(|(si, serial, cc)| (si.to_string(), serial, cc.to_string()))
}

fn scanner_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9A-Za-z ()%*\\-\\]\u{1d}]{0,60}",
        "(\\]C1|\\]d2|\\(00\\)|\\(420\\)|\\(01\\)|420|1Z|SF|JD|JJD|00|92|96|9[0-9]){1,3}[0-9A-Z\u{1d}éß中]{0,40}",
    ]
}

proptest! {
    #[test]
    fn any_input_gets_a_consistent_answer(input in scanner_like_text()) {
        let d = detect(&input);
        prop_assert_eq!(&d.input, &input);
        prop_assert!(d.candidates.windows(2).all(|w| w[0].confidence >= w[1].confidence));
        prop_assert!(d.candidates.iter().all(|c| (0.0..=1.0).contains(&c.confidence)));
        if let Some(carrier) = &d.carrier {
            prop_assert_eq!(&d.candidates[0].carrier, carrier);
            prop_assert_eq!(d.valid, d.candidates[0].valid);
            prop_assert!(d.reason.is_none());
        }
        if d.candidates.is_empty() || d.carrier.is_none() {
            prop_assert!(d.reason.is_some());
        }
        if d.valid {
            prop_assert!(d.tracking_number.is_some());
        }
        if let Some(tn) = &d.tracking_number {
            prop_assert!(tn.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{}", tn);
        }
    }

    #[test]
    fn any_s10_with_its_check_digit_is_recognised((si, serial, cc) in s10_parts(), pos in 2usize..11, d in 0u8..10) {
        let id = s10_id(&si, &serial, &cc);
        let det = detect(&id);
        let expected = match (cc.as_str(), si.as_bytes()[0]) {
            ("CN", b'E') => "ems",
            _ => S10_OPERATORS.iter().find(|(c, _)| *c == cc).map(|(_, id)| *id).unwrap_or(""),
        };
        prop_assert_eq!(det.carrier.as_deref(), Some(expected));
        prop_assert!(det.valid);
        prop_assert_eq!(det.tracking_number.as_deref(), Some(id.as_str()));
        // Change one digit of the serial or the check digit.
        let digit = b'0' + d;
        prop_assume!(id.as_bytes()[pos] != digit);
        let altered = with_digit(&id, pos, digit);
        let det = detect(&altered);
        prop_assert_eq!(det.carrier.as_deref(), Some(expected));
        // S10 maps remainder 0 to 5 and remainder 6 to 5 too: that swap is the one substitution
        // the published rule cannot see. Every other change must be caught.
        let blind = pos < 10 && {
            let (a, b) = (s10_remainder(&id.as_bytes()[2..10]), s10_remainder(&altered.as_bytes()[2..10]));
            (a == 0 && b == 6) || (a == 6 && b == 0)
        };
        prop_assert_eq!(det.valid, blind, "{} → {}", id, altered);
    }

    #[test]
    fn any_ups_number_with_its_check_digit_is_recognised(
        shipper in "[A-Z0-9]{6}", service in "[0-9]{2}", package in "[0-9]{7}", pos in 2usize..18, d in 0u8..10,
    ) {
        let id = format!("1Z{}", with_check(&format!("{shipper}{service}{package}"), check::ups));
        let det = detect(&id);
        prop_assert_eq!(det.carrier.as_deref(), Some("ups"));
        prop_assert!(det.valid);
        let digit = b'0' + d;
        let old = id.as_bytes()[pos];
        prop_assume!(old.is_ascii_digit() && old != digit);
        let altered = with_digit(&id, pos, digit);
        let det = detect(&altered);
        prop_assert_eq!(det.carrier.as_deref(), Some("ups"));
        // Doubled positions (the 2nd, 4th … character after "1Z") cannot tell d from d ± 5.
        let doubled = pos < 17 && (pos - 2) % 2 == 1;
        let blind = doubled && old.abs_diff(digit) == 5;
        prop_assert_eq!(det.valid, blind, "{} → {}", id, altered);
    }

    #[test]
    fn any_usps_impb_with_its_check_digit_is_recognised(
        channel in prop::sample::select(vec!["92", "93", "94", "95"]), rest in "[0-9]{19}",
        zip in prop::option::of(prop::sample::select(vec!["10023", "941030000", "22153"])),
        pos in 2usize..22, d in 0u8..10,
    ) {
        let number = with_check(&format!("{channel}{rest}"), check::gs1);
        prop_assume!(!number.starts_with("92612"));
        let input = match zip { Some(z) => format!("420{z}{number}"), None => number.clone() };
        let det = detect(&input);
        prop_assert_eq!(det.carrier.as_deref(), Some("usps"));
        prop_assert!(det.valid);
        prop_assert_eq!(det.tracking_number.as_deref(), Some(number.as_str()));
        // GS1 mod 10 catches every single-digit change.
        let digit = b'0' + d;
        prop_assume!(number.as_bytes()[pos] != digit);
        let altered = with_digit(&number, pos, digit);
        let det = detect(&altered);
        prop_assert!(!det.valid, "{} → {}: {:?}", number, altered, det);
    }
}
