use super::rules::{RULES, normalise_postal_code, pattern_regex};
use super::script::{arabic, cyrillic, detect, greek, hangul, kana, thai, to_latin};
use super::*;
use proptest::prelude::*;

fn text(country: &str, t: &str) -> Verdict {
    check(&CheckRequest { country: country.into(), text: Some(t.into()), ..Default::default() })
}

fn postal(country: &str, code: &str) -> Verdict {
    check(&CheckRequest { country: country.into(), postal_code: Some(code.into()), ..Default::default() })
}

fn codes(v: &Verdict) -> Vec<(Field, ProblemCode)> {
    v.problems.iter().map(|p| (p.field, p.code)).collect()
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

// ---------------------------------------------------------------- countries

#[test]
fn country_table_is_complete_and_unique() {
    assert!(COUNTRIES.len() >= 249, "{}", COUNTRIES.len());
    let mut a2: Vec<_> = COUNTRIES.iter().map(|c| c.alpha2).collect();
    let mut a3: Vec<_> = COUNTRIES.iter().map(|c| c.alpha3).collect();
    a2.sort_unstable();
    a3.sort_unstable();
    a2.dedup();
    a3.dedup();
    assert_eq!(a2.len(), COUNTRIES.len());
    assert_eq!(a3.len(), COUNTRIES.len());
    for c in COUNTRIES {
        assert!(c.alpha2.len() == 2 && c.alpha2.bytes().all(|b| b.is_ascii_uppercase()), "{}", c.alpha2);
        assert!(c.alpha3.len() == 3 && c.alpha3.bytes().all(|b| b.is_ascii_uppercase()), "{}", c.alpha3);
        assert!(!c.name_en.is_empty() && !c.name_zh.is_empty());
        // every name and alias finds its own country
        for n in [c.alpha2, c.alpha3, c.name_en, c.name_zh].iter().chain(c.aliases.iter()) {
            assert_eq!(lookup_country(n).map(|x| x.alpha2), Some(c.alpha2), "{n}");
        }
    }
}

#[test]
fn country_names_in_english_chinese_and_codes() {
    for (q, want) in [
        ("CN", "CN"),
        ("chn", "CN"),
        ("China", "CN"),
        ("中国", "CN"),
        ("中華人民共和國", "CN"),
        ("中华人民共和国", "CN"),
        ("PRC", "CN"),
        ("P.R. China", "CN"),
        ("UK", "GB"),
        ("u.k.", "GB"),
        ("Great Britain", "GB"),
        ("英国", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("美国", "US"),
        ("United States of America", "US"),
        ("日本", "JP"),
        ("韓國", "KR"),
        ("South Korea", "KR"),
        ("香港", "HK"),
        ("hong kong", "HK"),
        ("臺灣", "TW"),
        ("澳門", "MO"),
        ("Deutschland", "DE"),
        ("  fra  ", "FR"),
        ("Россия", "RU"),
    ] {
        assert_eq!(lookup_country(q).map(|c| c.alpha2), Some(want), "{q}");
    }
    for q in ["", "XX", "Atlantis", "中", "U", "1234"] {
        assert!(lookup_country(q).is_none(), "{q}");
    }
}

#[test]
fn unknown_country_is_a_problem() {
    let v = postal("Atlantis", "12345");
    assert!(!v.valid);
    assert_eq!(codes(&v), vec![(Field::Country, ProblemCode::UnknownCountry)]);
    assert!(v.country.is_none());
}

// ---------------------------------------------------------------- rules and published examples

#[test]
fn rules_are_well_formed() {
    assert!(RULES.len() >= 85, "{}", RULES.len());
    let mut seen = Vec::new();
    for r in RULES {
        assert!(country::by_alpha2(r.country).is_some(), "{}", r.country);
        assert!(!seen.contains(&r.country), "duplicate {}", r.country);
        seen.push(r.country);
        for fmt in std::iter::once(r.format).chain(r.latin_format) {
            let mut it = fmt.chars();
            while let Some(c) = it.next() {
                if c == '%' {
                    let l = it.next().unwrap_or(' ');
                    assert!(l == 'n' || Field::from_letter(l).is_some(), "{}: %{l}", r.country);
                }
            }
        }
        for l in r.required.chars().chain(r.upper.chars()) {
            assert!(Field::from_letter(l).is_some(), "{}: {l}", r.country);
        }
        assert_eq!(r.postal.is_empty(), r.example[4].is_empty(), "{}", r.country);
        assert!(!r.required.contains('Z') || !r.postal.is_empty(), "{}", r.country);
        assert_eq!(r.largest_first, r.latin_format.is_some(), "{}", r.country);
    }
    // the Asia-Pacific majors, the main EU countries and the Americas
    for c in [
        "CN", "HK", "MO", "TW", "JP", "KR", "SG", "MY", "TH", "VN", "PH", "ID", "IN", "AU", "NZ", "US", "CA", "MX",
        "BR", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "AT", "SE", "PL", "RU", "ZA",
    ] {
        assert!(rules::for_country(c).is_some(), "{c}");
    }
}

#[test]
fn every_country_example_is_valid() {
    for r in RULES {
        let [street, district, city, region, pc] = r.example;
        if !pc.is_empty() {
            assert_eq!(normalise_postal_code(r, pc).as_deref(), Some(pc), "{}: {pc}", r.country);
            let v = postal(r.country, pc);
            assert!(v.valid, "{}: {:?}", r.country, v.problems);
        }
        let v = check(&CheckRequest {
            country: r.country.into(),
            fields: Some(AddressFields {
                recipient: "Example Recipient".into(),
                street: vec![street.into()],
                district: district.into(),
                city: city.into(),
                region: region.into(),
                postal_code: pc.into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert!(v.valid, "{}: {:?}", r.country, v.problems);
        let country = country::by_alpha2(r.country).map(|c| c.name_en.to_uppercase());
        assert_eq!(v.lines.last(), country.as_ref(), "{}", r.country);
        assert!(
            v.lines.iter().any(|l| l.contains(street) || l.contains(&street.to_uppercase())),
            "{}: {:?}",
            r.country,
            v.lines
        );
        if !v.latin_lines.is_empty() {
            assert_eq!(v.latin_lines.last(), country.as_ref());
            assert!(
                v.latin_lines.iter().all(|l| !detect(l).iter().any(|s| *s == Script::Han || *s == Script::Hangul)),
                "{:?}",
                v.latin_lines
            );
        }
    }
}

#[test]
fn every_country_rejects_malformed_postal_codes() {
    for r in RULES.iter().filter(|r| !r.postal.is_empty()) {
        let pc = r.example[4];
        let longer = format!("{pc}9");
        let letters: String = pc.chars().map(|c| if c.is_ascii_digit() { 'Q' } else { '7' }).collect();
        let shorter: String = pc.chars().take(pc.chars().count() - 1).collect();
        let other_lengths = |s: &str| {
            let n = s.chars().filter(|c| c.is_ascii_alphanumeric()).count();
            r.postal.iter().any(|p| p.chars().filter(|c| !matches!(c, ' ' | '-')).count() == n)
        };
        let mut bad = vec![letters.as_str(), "!"];
        bad.extend([longer.as_str(), shorter.as_str(), "12 34 56 78 90"].into_iter().filter(|s| !other_lengths(s)));
        for bad in bad {
            let v = postal(r.country, bad);
            assert!(!v.valid, "{}: {bad} accepted", r.country);
            assert_eq!(codes(&v), vec![(Field::PostalCode, ProblemCode::InvalidPostalCode)], "{}: {bad}", r.country);
        }
    }
}

#[test]
fn postal_codes_normalise_to_the_canonical_form() {
    for (c, input, want) in [
        ("US", "12345", "12345"),
        ("US", "123456789", "12345-6789"),
        ("US", " 12345-6789 ", "12345-6789"),
        ("JP", "1000001", "100-0001"),
        ("JP", "１００－０００１", "100-0001"),
        ("GB", "sw1a2aa", "SW1A 2AA"),
        ("GB", "M1 1AE", "M1 1AE"),
        ("GB", "EC1A 1BB", "EC1A 1BB"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("NL", "1234ab", "1234 AB"),
        ("SE", "11152", "111 52"),
        ("PL", "00902", "00-902"),
        ("BR", "70150900", "70150-900"),
        ("PT", "1100148", "1100-148"),
        ("IE", "d02x285", "D02 X285"),
        ("CN", "518057", "518057"),
        ("KR", "03171", "03171"),
        ("TW", "100", "100"),
        ("LU", "L-2240", "L-2240"),
        ("AR", "c1064aab", "C1064AAB"),
    ] {
        let v = postal(c, input);
        assert!(v.valid, "{c} {input}: {:?}", v.problems);
        assert_eq!(v.fields.postal_code, want, "{c} {input}");
    }
    for (c, bad) in [
        ("US", "1234"),
        ("US", "12345-678"),
        ("GB", "SW1A2A"),
        ("CA", "K1A 0BB"),
        ("JP", "100-00001"),
        ("CN", "51805"),
        ("DE", "1234A"),
        ("NL", "1234 A1"),
    ] {
        assert!(!postal(c, bad).valid, "{c} {bad}");
    }
}

#[test]
fn countries_without_postal_codes_warn_and_drop_it() {
    let v = postal("HK", "999077");
    assert!(v.valid);
    assert_eq!(codes(&v), vec![(Field::PostalCode, ProblemCode::PostalCodeNotUsed)]);
    assert!(v.fields.postal_code.is_empty());
}

#[test]
fn generic_rules_for_countries_without_their_own() {
    let v = text("Fiji", "Victoria Parade 12\nSuva 679");
    assert_eq!(v.rules, RulesLevel::Generic);
    assert!(v.valid, "{:?}", v.problems);
    assert!(codes(&v).contains(&(Field::Country, ProblemCode::GenericRules)));
    assert_eq!(v.lines.last().map(String::as_str), Some("FIJI"));
    assert!(!postal("FJ", "679!").valid);
}

#[test]
fn pattern_regex_is_documented_form() {
    assert_eq!(pattern_regex("999-9999"), "^\\d\\d\\d-?\\d\\d\\d\\d$");
    assert_eq!(pattern_regex("@9@ 9@9"), "^[A-Z]\\d[A-Z] ?\\d[A-Z]\\d$");
}

// ---------------------------------------------------------------- required fields, regions

#[test]
fn required_fields_are_reported() {
    let v = check(&CheckRequest {
        country: "US".into(),
        fields: Some(AddressFields {
            street: vec!["1 Main St".into()],
            city: "Springfield".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(!v.valid);
    assert_eq!(codes(&v), vec![(Field::Region, ProblemCode::Required), (Field::PostalCode, ProblemCode::Required)]);
    let v = text("DE", "Platz der Republik 1");
    assert!(codes(&v).contains(&(Field::PostalCode, ProblemCode::Required)));
    assert!(codes(&v).contains(&(Field::City, ProblemCode::Required)));
}

#[test]
fn regions_are_checked_and_normalised() {
    let f = |region: &str| AddressFields {
        street: vec!["1 Main St".into()],
        city: "Springfield".into(),
        region: region.into(),
        postal_code: "62701".into(),
        ..Default::default()
    };
    let v = check(&CheckRequest { country: "US".into(), fields: Some(f("illinois")), ..Default::default() });
    assert!(v.valid);
    assert_eq!(v.fields.region, "IL");
    let v = check(&CheckRequest { country: "US".into(), fields: Some(f("ZZ")), ..Default::default() });
    assert_eq!(codes(&v), vec![(Field::Region, ProblemCode::UnknownRegion)]);
    // Chinese provinces by short name and by pinyin
    let v = text("CN", "广东深圳市南山区科技南路18号");
    assert_eq!(v.fields.region, "广东省");
    let v = check(&CheckRequest {
        country: "CN".into(),
        fields: Some(AddressFields {
            street: vec!["18 Keji South Road".into()],
            district: "Nanshan District".into(),
            city: "Shenzhen".into(),
            region: "Guangdong Sheng".into(),
            postal_code: "518057".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.fields.region, "Guangdong");
    // an address in Latin letters is laid out smallest first, even for China
    assert_eq!(v.lines, ["18 Keji South Road", "Nanshan District", "Shenzhen", "GUANGDONG 518057", "CHINA"]);
    assert!(v.latin_lines.is_empty());
}

#[test]
fn separate_postal_code_must_agree_with_the_text() {
    let v = check(&CheckRequest {
        country: "DE".into(),
        postal_code: Some("10117".into()),
        text: Some("Platz der Republik 1\n11011 Berlin".into()),
        ..Default::default()
    });
    assert_eq!(codes(&v), vec![(Field::PostalCode, ProblemCode::PostalCodeMismatch)]);
    let v = check(&CheckRequest {
        country: "DE".into(),
        postal_code: Some("11011".into()),
        text: Some("Platz der Republik 1\nBerlin".into()),
        ..Default::default()
    });
    assert!(v.valid, "{:?}", v.problems);
    assert_eq!(v.fields.postal_code, "11011");
}

#[test]
fn nothing_to_check_is_a_problem() {
    let v = check(&CheckRequest { country: "FR".into(), ..Default::default() });
    assert_eq!(codes(&v), vec![(Field::PostalCode, ProblemCode::Empty)]);
}

#[test]
fn long_and_control_fields_are_rejected() {
    let long = "x".repeat(MAX_FIELD_CHARS + 1);
    let v = check(&CheckRequest {
        country: "DE".into(),
        fields: Some(AddressFields {
            street: vec![long],
            city: "Ber\u{7}lin".into(),
            postal_code: "11011".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(!v.valid);
    assert!(codes(&v).contains(&(Field::Street, ProblemCode::TooLong)));
    assert!(codes(&v).contains(&(Field::City, ProblemCode::ControlCharacters)));
    assert_eq!(v.fields.city, "Berlin");
}

// ---------------------------------------------------------------- free-text parsing

struct Want {
    recipient: &'static str,
    organisation: &'static str,
    street: &'static [&'static str],
    district: &'static str,
    city: &'static str,
    region: &'static str,
    postal_code: &'static str,
}

const W: Want =
    Want { recipient: "", organisation: "", street: &[], district: "", city: "", region: "", postal_code: "" };

fn assert_parsed(country: &str, input: &str, want: Want) {
    let v = text(country, input);
    let f = &v.fields;
    let got = (
        f.recipient.as_str(),
        f.organisation.as_str(),
        f.street.iter().map(String::as_str).collect::<Vec<_>>(),
        f.district.as_str(),
        f.city.as_str(),
        f.region.as_str(),
        f.postal_code.as_str(),
    );
    let exp = (
        want.recipient,
        want.organisation,
        want.street.to_vec(),
        want.district,
        want.city,
        want.region,
        want.postal_code,
    );
    assert_eq!(got, exp, "{country}: {input}");
    assert!(v.valid, "{country}: {input}: {:?}", v.problems);
}

#[test]
fn parses_chinese_addresses() {
    assert_parsed(
        "CN",
        "广东省深圳市南山区科技南路18号 张三 13800138000 518057",
        Want {
            recipient: "张三",
            street: &["科技南路18号"],
            district: "南山区",
            city: "深圳市",
            region: "广东省",
            postal_code: "518057",
            ..W
        },
    );
    assert_parsed(
        "CN",
        "邮编：100080 北京市海淀区中关村大街27号 李四收",
        Want {
            recipient: "李四",
            street: &["中关村大街27号"],
            district: "海淀区",
            city: "北京市",
            region: "北京市",
            postal_code: "100080",
            ..W
        },
    );
    // no postal code, short province name, country written first
    assert_parsed(
        "中国",
        "中国浙江杭州市西湖区文三路90号",
        Want { street: &["文三路90号"], district: "西湖区", city: "杭州市", region: "浙江省", ..W },
    );
    assert_parsed(
        "CN",
        "上海浦东新区世纪大道100号",
        Want { street: &["世纪大道100号"], district: "浦东新区", city: "上海市", region: "上海市", ..W },
    );
    assert_parsed(
        "CN",
        "收件人：王五 新疆维吾尔自治区乌鲁木齐市天山区解放北路1号 830000",
        Want {
            recipient: "王五",
            street: &["解放北路1号"],
            district: "天山区",
            city: "乌鲁木齐市",
            region: "新疆维吾尔自治区",
            postal_code: "830000",
            ..W
        },
    );
    assert_parsed(
        "CN",
        "深圳市腾讯科技有限公司 广东省深圳市南山区海天二路33号 马先生",
        Want {
            recipient: "马",
            organisation: "深圳市腾讯科技有限公司",
            street: &["海天二路33号"],
            district: "南山区",
            city: "深圳市",
            region: "广东省",
            ..W
        },
    );
    // a Chinese address in Latin letters
    assert_parsed(
        "CN",
        "18 Keji South Road, Nanshan District, Shenzhen, Guangdong 518057",
        Want {
            street: &["18 Keji South Road"],
            district: "Nanshan District",
            city: "Shenzhen",
            region: "Guangdong",
            postal_code: "518057",
            ..W
        },
    );
}

#[test]
fn chinese_label_is_largest_first_and_latin_smallest_first() {
    let v = text("CN", "广东省深圳市南山区科技南路18号 张伟杰 518057");
    assert_eq!(v.lines, ["518057", "广东省深圳市南山区科技南路18号", "张伟杰", "CHINA"]);
    assert_eq!(
        v.latin_lines,
        ["Zhang Weijie", "Kejinan Lu 18 Hao", "Nanshan Qu", "Shenzhen Shi", "GUANGDONG 518057", "CHINA"]
    );
    assert_eq!(v.scripts, [Script::Han]);
    let v = text("CN", "重庆市渝中区解放碑街道邹容路100号");
    assert_eq!(v.latin_lines.iter().rev().nth(1).map(String::as_str), Some("CHONGQING"));
    assert!(v.latin_lines.contains(&"Chongqing Shi".to_string()), "{:?}", v.latin_lines);
    // municipality: the city is not written twice
    assert_eq!(v.lines[0], "重庆市渝中区解放碑街道邹容路100号");
}

#[test]
fn parses_hong_kong_addresses() {
    assert_parsed(
        "HK",
        "香港九龍尖沙咀彌敦道100號 陳大文",
        Want { recipient: "陳大文", street: &["彌敦道100號"], district: "尖沙咀", region: "九龍", ..W },
    );
    assert_parsed(
        "HK",
        "Flat 12A, 1 Harbour Road, Wan Chai, Hong Kong",
        Want { street: &["Flat 12A", "1 Harbour Road"], district: "Wan Chai", ..W },
    );
    assert_parsed(
        "HK",
        "Chan Tai Man\n100 Nathan Road\nTsim Sha Tsui\nKowloon",
        Want {
            recipient: "Chan Tai Man",
            street: &["100 Nathan Road"],
            district: "Tsim Sha Tsui",
            region: "Kowloon",
            ..W
        },
    );
    let v = text("HK", "香港九龍尖沙咀彌敦道100號");
    assert!(v.latin_lines.contains(&"Tsim Sha Tsui".to_string()));
    assert!(v.latin_lines.contains(&"KOWLOON".to_string()));
    assert!(codes(&v).contains(&(Field::Street, ProblemCode::LatinIncomplete)));
}

#[test]
fn parses_taiwanese_addresses() {
    assert_parsed(
        "TW",
        "10048 台北市中正區重慶南路一段122號 王小明",
        Want {
            recipient: "王小明",
            street: &["重慶南路一段122號"],
            city: "中正區",
            region: "臺北市",
            postal_code: "10048",
            ..W
        },
    );
    assert_parsed(
        "台灣",
        "高雄市前鎮區中山二路2號",
        Want { street: &["中山二路2號"], city: "前鎮區", region: "高雄市", ..W },
    );
}

#[test]
fn parses_japanese_addresses() {
    assert_parsed(
        "JP",
        "〒100-8994 東京都千代田区丸の内2丁目7-2 日本郵便株式会社 山田太郎様",
        Want {
            recipient: "山田太郎",
            organisation: "日本郵便株式会社",
            street: &["丸の内2丁目7-2"],
            city: "千代田区",
            region: "東京都",
            postal_code: "100-8994",
            ..W
        },
    );
    assert_parsed(
        "JP",
        "〒231-0005 神奈川県横浜市中区本町6丁目50-10",
        Want {
            street: &["本町6丁目50-10"], city: "横浜市中区", region: "神奈川県", postal_code: "231-0005", ..W
        },
    );
    assert_parsed(
        "日本",
        "大阪府大阪市北区梅田3-1-1 〒530-0001",
        Want { street: &["梅田3-1-1"], city: "大阪市北区", region: "大阪府", postal_code: "530-0001", ..W },
    );
    let v = text("JP", "〒100-8994 東京都千代田区丸の内2丁目7-2");
    assert_eq!(v.lines, ["〒100-8994", "東京都千代田区丸の内2丁目7-2", "JAPAN"]);
    assert_eq!(v.latin_lines, ["Marunouchi 2-chome 7-2", "Chiyoda-ku, TOKYO 100-8994", "JAPAN"]);
}

#[test]
fn parses_korean_addresses() {
    assert_parsed(
        "KR",
        "(우)03171 서울특별시 종로구 세종대로 209 홍길동님",
        Want {
            recipient: "홍길동",
            street: &["세종대로 209"],
            city: "종로구",
            region: "서울특별시",
            postal_code: "03171",
            ..W
        },
    );
    assert_parsed(
        "KR",
        "06236 서울 강남구 테헤란로 152",
        Want { street: &["테헤란로 152"], city: "강남구", region: "서울특별시", postal_code: "06236", ..W },
    );
    let v = text("KR", "(우)03171 서울특별시 종로구 세종대로 209 홍길동님");
    assert_eq!(
        v.latin_lines,
        ["Hong Gildong", "Sejongdae-ro 209", "Jongno-gu", "Seoul", "03171", "KOREA, REPUBLIC OF"]
    );
    assert_parsed(
        "Korea",
        "209 Sejong-daero, Jongno-gu, Seoul 03171",
        Want { street: &["209 Sejong-daero"], city: "Jongno-gu", region: "Seoul", postal_code: "03171", ..W },
    );
}

#[test]
fn parses_latin_addresses() {
    // A title opens a name: `Dr.` is not `Drive` there.
    assert_parsed(
        "DE",
        "Dr. Anna Schmidt\nCharité\nCharitéplatz 1\n10117 Berlin",
        Want {
            recipient: "Dr. Anna Schmidt",
            organisation: "Charité",
            street: &["Charitéplatz 1"],
            city: "Berlin",
            postal_code: "10117",
            ..W
        },
    );
    assert_parsed(
        "US",
        "12 Mulholland Dr., Los Angeles, CA 90068",
        Want { street: &["12 Mulholland Dr."], city: "Los Angeles", region: "CA", postal_code: "90068", ..W },
    );
    assert_parsed(
        "SG",
        "10 Anson Road #25-08, Singapore 079903",
        Want { street: &["10 Anson Road #25-08"], postal_code: "079903", ..W },
    );
    assert_parsed(
        "US",
        "John Smith\n1600 Pennsylvania Ave NW\nWashington, DC 20500\nUSA",
        Want {
            recipient: "John Smith",
            street: &["1600 Pennsylvania Ave NW"],
            city: "Washington",
            region: "DC",
            postal_code: "20500",
            ..W
        },
    );
    assert_parsed(
        "US",
        "350 Fifth Avenue, New York, NY 10118-0110",
        Want { street: &["350 Fifth Avenue"], city: "New York", region: "NY", postal_code: "10118-0110", ..W },
    );
    assert_parsed(
        "US",
        "Jane Roe, Acme Corp, 1 Infinite Loop, Cupertino, California 95014",
        Want {
            recipient: "Jane Roe",
            organisation: "Acme Corp",
            street: &["1 Infinite Loop"],
            city: "Cupertino",
            region: "CA",
            postal_code: "95014",
            ..W
        },
    );
    assert_parsed(
        "GB",
        "The Prime Minister\n10 Downing Street\nLondon\nSW1A 2AA",
        Want {
            recipient: "The Prime Minister",
            street: &["10 Downing Street"],
            city: "London",
            postal_code: "SW1A 2AA",
            ..W
        },
    );
    assert_parsed(
        "UK",
        "221B Baker Street, London NW1 6XE, United Kingdom",
        Want { street: &["221B Baker Street"], city: "London", postal_code: "NW1 6XE", ..W },
    );
    assert_parsed(
        "DE",
        "Deutscher Bundestag\nPlatz der Republik 1\n11011 Berlin\nGermany",
        Want {
            recipient: "Deutscher Bundestag",
            street: &["Platz der Republik 1"],
            city: "Berlin",
            postal_code: "11011",
            ..W
        },
    );
    assert_parsed(
        "FR",
        "Palais de l'Élysée, 55 Rue du Faubourg Saint-Honoré, 75008 Paris",
        Want {
            recipient: "Palais de l'Élysée",
            street: &["55 Rue du Faubourg Saint-Honoré"],
            city: "Paris",
            postal_code: "75008",
            ..W
        },
    );
    assert_parsed(
        "US",
        "Apple Inc.\nOne Apple Park Way\nCupertino, CA 95014",
        Want {
            organisation: "Apple Inc.",
            street: &["One Apple Park Way"],
            city: "Cupertino",
            region: "CA",
            postal_code: "95014",
            ..W
        },
    );
    // a house number is not a ZIP code
    let v = text("US", "12345 Main Street, Springfield, IL");
    assert_eq!(v.fields.street, ["12345 Main Street"]);
    assert_eq!((v.fields.city.as_str(), v.fields.region.as_str()), ("Springfield", "IL"));
    assert!(codes(&v).contains(&(Field::PostalCode, ProblemCode::Required)));
    assert_parsed(
        "IT",
        "Via del Corso 1, 00186 Roma RM",
        Want { street: &["Via del Corso 1"], city: "Roma", region: "RM", postal_code: "00186", ..W },
    );
    // largest first, country first (Russian custom)
    assert_parsed(
        "RU",
        "Россия, 101000, Москва, ул. Мясницкая, д. 26",
        Want { street: &["ул. Мясницкая, д. 26"], city: "Москва", postal_code: "101000", ..W },
    );
    assert_parsed(
        "RU",
        "ул. Тверская, 13, Москва, 125009",
        Want { street: &["ул. Тверская, 13"], city: "Москва", postal_code: "125009", ..W },
    );
    // more street lines than a label takes: the first share a line
    assert_parsed(
        "HK",
        "Room 1001, 10/F, Tower 1, Times Square, 1 Matheson Street, Causeway Bay, Hong Kong",
        Want {
            street: &["Room 1001, 10/F", "Tower 1", "Times Square", "1 Matheson Street"],
            district: "Causeway Bay",
            ..W
        },
    );
    assert_parsed(
        "FR",
        "Société Exemple\n12 avenue des Champs-Élysées\n75008 PARIS CEDEX 08",
        Want {
            recipient: "Société Exemple",
            street: &["12 avenue des Champs-Élysées"],
            city: "PARIS CEDEX 08",
            postal_code: "75008",
            ..W
        },
    );
}

#[test]
fn label_casing_and_order_follow_the_country() {
    let v = text("US", "350 Fifth Avenue, New York, NY 10118-0110");
    assert_eq!(v.lines, ["350 Fifth Avenue", "NEW YORK, NY 10118-0110", "UNITED STATES"]);
    let v = text("FR", "55 Rue du Faubourg Saint-Honoré, 75008 Paris");
    assert_eq!(v.lines, ["55 Rue du Faubourg Saint-Honoré", "75008 PARIS", "FRANCE"]);
    let v = text("DE", "Platz der Republik 1\n11011 Berlin");
    assert_eq!(v.lines, ["Platz der Republik 1", "11011 Berlin", "GERMANY"]);
    let v = text("GB", "10 Downing Street\nLondon\nsw1a 2aa");
    assert_eq!(v.lines, ["10 Downing Street", "LONDON", "SW1A 2AA", "UNITED KINGDOM"]);
}

// ---------------------------------------------------------------- scripts

#[test]
fn detects_scripts() {
    assert_eq!(detect("Main Street 1"), [Script::Latin]);
    assert_eq!(detect("東京都 カタカナ"), [Script::Han, Script::Kana]);
    assert_eq!(detect("서울 Seoul"), [Script::Hangul, Script::Latin]);
    assert_eq!(detect("Москва"), [Script::Cyrillic]);
    assert_eq!(detect("Αθήνα"), [Script::Greek]);
    assert_eq!(detect("دبي"), [Script::Arabic]);
    assert_eq!(detect("กรุงเทพ"), [Script::Thai]);
    assert!(detect("123 - #").is_empty());
}

#[test]
fn transliteration_tables() {
    assert_eq!(kana(&chars("とうきょう")), "tokyo");
    assert_eq!(kana(&chars("おおさか")), "osaka");
    assert_eq!(kana(&chars("にいがた")), "niigata");
    assert_eq!(kana(&chars("しんじゅく")), "shinjuku");
    assert_eq!(kana(&chars("きって")), "kitte");
    assert_eq!(kana(&chars("まっちゃ")), "matcha");
    assert_eq!(kana(&chars("カタカナ")), "katakana");
    assert_eq!(kana(&chars("シャチョウ")), "shacho");
    assert_eq!(kana(&chars("ファミリー")), "famiri");
    assert_eq!(hangul(&chars("한국")), "hanguk");
    assert_eq!(hangul(&chars("서울")), "seoul");
    assert_eq!(hangul(&chars("부산")), "busan");
    assert_eq!(hangul(&chars("종로")), "jongno");
    assert_eq!(hangul(&chars("한글")), "hangeul");
    assert_eq!(hangul(&chars("음악")), "eumak");
    assert_eq!(hangul(&chars("신라")), "silla");
    assert_eq!(hangul(&chars("국민")), "gungmin");
    assert_eq!(hangul(&chars("합니다")), "hamnida");
    assert_eq!(hangul(&chars("설날")), "seollal");
    assert_eq!(cyrillic(&chars("Москва")), "Moskva");
    assert_eq!(cyrillic(&chars("Щукин")), "Shchukin");
    assert_eq!(cyrillic(&chars("Юрий")), "Iurii");
    assert_eq!(cyrillic(&chars("Київ")), "Kyiv");
    assert_eq!(greek(&chars("Αθήνα")), "Athina");
    assert_eq!(greek(&chars("Ευρώπη")), "Evropi");
    assert_eq!(greek(&chars("Μπουμπουλίνας")), "Boumpoulinas");
    assert_eq!(greek(&chars("Θεσσαλονίκη")), "Thessaloniki");
    assert_eq!(arabic(&chars("بغداد")), "Bghdad");
    assert_eq!(arabic(&chars("الرياض")), "al-Ryad");
    assert_eq!(thai(&chars("กรุงเทพ")), "krungthep");
    assert_eq!(thai(&chars("เมือง")), "mueang");
    assert_eq!(thai(&chars("ถนน")), "thanon");
    assert_eq!(thai(&chars("ปทุมวัน")), "pathumwan");
    assert_eq!(thai(&chars("พระราม")), "phraram");
    assert_eq!(thai(&chars("ลุมพินี")), "lumphini");
    assert_eq!(thai(&chars("คน")), "khon");
    assert_eq!(thai(&chars("สวน")), "suan");
    assert_eq!(to_latin("北京", false), ("Beijing".to_string(), true));
    assert_eq!(to_latin("成都市", false).0, "Chengdu Shi");
    assert_eq!(to_latin("1号国贸大厦A座", false).0, "1 Hao Guomao Dasha A Zuo");
    assert_eq!(to_latin("广东省深圳市", false).0, "Guangdong Sheng Shenzhen Shi");
    assert_eq!(to_latin("长安街１号", false).0, "Chang'an Jie 1 Hao".replace('\'', ""));
    assert_eq!(to_latin("東京都千代田区", true), ("Tokyo Chiyoda-ku".to_string(), true));
    assert!(!to_latin("山田", true).1);
    assert_eq!(to_latin("강남구", false).0, "Gangnam-gu");
}

// ---------------------------------------------------------------- never panics

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn check_never_panics(
        country in prop_oneof![Just("CN".to_string()), Just("JP".to_string()), Just("KR".to_string()),
            Just("TW".to_string()), Just("HK".to_string()), Just("US".to_string()), Just("GB".to_string()),
            Just("DE".to_string()), Just("FR".to_string()), Just("SG".to_string()), Just("KE".to_string()), ".{0,8}"],
        t in "\\PC{0,120}",
        pc in proptest::option::of(".{0,12}"),
    ) {
        let v = check(&CheckRequest { country, postal_code: pc, text: Some(t), fields: None });
        prop_assert_eq!(v.valid, !v.problems.iter().any(|p| p.severity == Severity::Error));
    }

    #[test]
    fn check_never_panics_on_cjk_mixtures(t in "[广东省市区路号0-9〒丁目番地東京都서울특별시구로 ,\\-(우)]{0,60}") {
        for c in ["CN", "JP", "KR", "TW", "HK"] {
            let _ = check(&CheckRequest { country: c.into(), text: Some(t.clone()), ..Default::default() });
        }
    }

    #[test]
    fn latin_rendering_never_panics_and_leaves_no_cjk(t in "\\PC{0,80}") {
        let (l, complete) = to_latin(&t, false);
        prop_assert_eq!(complete, detect(&l).iter().all(|s| *s == Script::Latin));
        let only_mapped: String = t.chars().filter(|c| matches!(*c as u32, 0x3041..=0x3093 | 0xAC00..=0xD7A3 | 0x430..=0x44F | 0x3B1..=0x3C9)).collect();
        let (l, complete) = to_latin(&only_mapped, false);
        prop_assert!(complete, "{} -> {}", only_mapped, l);
        let _ = to_latin(&t, true);
    }

    #[test]
    fn valid_postal_codes_round_trip(d in "[0-9]{5}") {
        let r = rules::for_country("US");
        prop_assert!(r.is_some());
        if let Some(r) = r {
            prop_assert_eq!(normalise_postal_code(r, &d), Some(d.clone()));
        }
    }
}
