//! Postal rules per country: which fields an address needs, the postal-code patterns, the
//! order of the label lines and which fields the post office wants in capitals.
//!
//! Format strings use `%N` recipient, `%O` organisation, `%A` street lines, `%D` district
//! (dependent locality), `%C` city, `%S` region (state, province, prefecture), `%Z` postal
//! code and `%n` for a new line; anything else is literal text. Postal-code patterns use `9`
//! for a digit, `@` for a letter and `*` for either; spaces and hyphens are separators
//! (optional when typed, written in the canonical form); other characters are literal.

use serde::Serialize;

/// One address field, with its letter in the format strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AddressField))]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Country,
    Recipient,
    Organisation,
    Street,
    District,
    City,
    Region,
    PostalCode,
}

impl Field {
    pub fn from_letter(c: char) -> Option<Field> {
        Some(match c {
            'N' => Field::Recipient,
            'O' => Field::Organisation,
            'A' => Field::Street,
            'D' => Field::District,
            'C' => Field::City,
            'S' => Field::Region,
            'Z' => Field::PostalCode,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Country => "country",
            Field::Recipient => "recipient",
            Field::Organisation => "organisation",
            Field::Street => "street",
            Field::District => "district",
            Field::City => "city",
            Field::Region => "region",
            Field::PostalCode => "postal_code",
        }
    }
}

/// A first-level division: code, native name, Latin name.
pub type Region = (&'static str, &'static str, &'static str);

/// The postal rules of one country.
#[derive(Debug, Clone, Copy)]
pub struct PostalRules {
    pub country: &'static str,
    /// Label lines in the country's own order and script.
    pub format: &'static str,
    /// Label lines of the Latin rendering, where the order differs (largest-first countries).
    pub latin_format: Option<&'static str>,
    /// Letters of the fields an address must have.
    pub required: &'static str,
    /// Letters of the fields written in capitals.
    pub upper: &'static str,
    /// Postal-code patterns; empty when the country has no postal codes.
    pub postal: &'static [&'static str],
    /// Name of the postal code on this country's mail (`ZIP code`, `PLZ`, `邮政编码`).
    pub postal_name: &'static str,
    /// Known first-level divisions; empty when not checked.
    pub regions: &'static [Region],
    /// The region is written as its code (US states, Canadian provinces).
    pub region_as_code: bool,
    /// The native address runs from the largest unit to the smallest (CN, TW, JP, KR, HK).
    pub largest_first: bool,
    /// A published example: street, district, city, region, postal code.
    pub example: [&'static str; 5],
}

const DEFAULT: PostalRules = PostalRules {
    country: "",
    format: "%N%n%O%n%A%n%Z %C",
    latin_format: None,
    required: "AC",
    upper: "C",
    postal: &[],
    postal_name: "postal code",
    regions: &[],
    region_as_code: false,
    largest_first: false,
    example: ["", "", "", "", ""],
};

/// Rules used for countries without their own entry: street and city, any postal code.
pub const GENERIC: PostalRules = PostalRules { format: "%N%n%O%n%A%n%C %S %Z", required: "A", ..DEFAULT };

pub const US_STATES: &[Region] = &[
    ("AL", "Alabama", "Alabama"),
    ("AK", "Alaska", "Alaska"),
    ("AZ", "Arizona", "Arizona"),
    ("AR", "Arkansas", "Arkansas"),
    ("CA", "California", "California"),
    ("CO", "Colorado", "Colorado"),
    ("CT", "Connecticut", "Connecticut"),
    ("DE", "Delaware", "Delaware"),
    ("DC", "District of Columbia", "District of Columbia"),
    ("FL", "Florida", "Florida"),
    ("GA", "Georgia", "Georgia"),
    ("HI", "Hawaii", "Hawaii"),
    ("ID", "Idaho", "Idaho"),
    ("IL", "Illinois", "Illinois"),
    ("IN", "Indiana", "Indiana"),
    ("IA", "Iowa", "Iowa"),
    ("KS", "Kansas", "Kansas"),
    ("KY", "Kentucky", "Kentucky"),
    ("LA", "Louisiana", "Louisiana"),
    ("ME", "Maine", "Maine"),
    ("MD", "Maryland", "Maryland"),
    ("MA", "Massachusetts", "Massachusetts"),
    ("MI", "Michigan", "Michigan"),
    ("MN", "Minnesota", "Minnesota"),
    ("MS", "Mississippi", "Mississippi"),
    ("MO", "Missouri", "Missouri"),
    ("MT", "Montana", "Montana"),
    ("NE", "Nebraska", "Nebraska"),
    ("NV", "Nevada", "Nevada"),
    ("NH", "New Hampshire", "New Hampshire"),
    ("NJ", "New Jersey", "New Jersey"),
    ("NM", "New Mexico", "New Mexico"),
    ("NY", "New York", "New York"),
    ("NC", "North Carolina", "North Carolina"),
    ("ND", "North Dakota", "North Dakota"),
    ("OH", "Ohio", "Ohio"),
    ("OK", "Oklahoma", "Oklahoma"),
    ("OR", "Oregon", "Oregon"),
    ("PA", "Pennsylvania", "Pennsylvania"),
    ("RI", "Rhode Island", "Rhode Island"),
    ("SC", "South Carolina", "South Carolina"),
    ("SD", "South Dakota", "South Dakota"),
    ("TN", "Tennessee", "Tennessee"),
    ("TX", "Texas", "Texas"),
    ("UT", "Utah", "Utah"),
    ("VT", "Vermont", "Vermont"),
    ("VA", "Virginia", "Virginia"),
    ("WA", "Washington", "Washington"),
    ("WV", "West Virginia", "West Virginia"),
    ("WI", "Wisconsin", "Wisconsin"),
    ("WY", "Wyoming", "Wyoming"),
    ("PR", "Puerto Rico", "Puerto Rico"),
    ("GU", "Guam", "Guam"),
    ("VI", "Virgin Islands", "Virgin Islands"),
    ("AS", "American Samoa", "American Samoa"),
    ("MP", "Northern Mariana Islands", "Northern Mariana Islands"),
    ("AA", "Armed Forces Americas", "Armed Forces Americas"),
    ("AE", "Armed Forces Europe", "Armed Forces Europe"),
    ("AP", "Armed Forces Pacific", "Armed Forces Pacific"),
];

pub const CA_PROVINCES: &[Region] = &[
    ("AB", "Alberta", "Alberta"),
    ("BC", "British Columbia", "British Columbia"),
    ("MB", "Manitoba", "Manitoba"),
    ("NB", "New Brunswick", "New Brunswick"),
    ("NL", "Newfoundland and Labrador", "Newfoundland and Labrador"),
    ("NS", "Nova Scotia", "Nova Scotia"),
    ("NT", "Northwest Territories", "Northwest Territories"),
    ("NU", "Nunavut", "Nunavut"),
    ("ON", "Ontario", "Ontario"),
    ("PE", "Prince Edward Island", "Prince Edward Island"),
    ("QC", "Québec", "Quebec"),
    ("SK", "Saskatchewan", "Saskatchewan"),
    ("YT", "Yukon", "Yukon"),
];

pub const AU_STATES: &[Region] = &[
    ("ACT", "Australian Capital Territory", "Australian Capital Territory"),
    ("NSW", "New South Wales", "New South Wales"),
    ("NT", "Northern Territory", "Northern Territory"),
    ("QLD", "Queensland", "Queensland"),
    ("SA", "South Australia", "South Australia"),
    ("TAS", "Tasmania", "Tasmania"),
    ("VIC", "Victoria", "Victoria"),
    ("WA", "Western Australia", "Western Australia"),
];

pub const BR_STATES: &[Region] = &[
    ("AC", "Acre", "Acre"),
    ("AL", "Alagoas", "Alagoas"),
    ("AP", "Amapá", "Amapa"),
    ("AM", "Amazonas", "Amazonas"),
    ("BA", "Bahia", "Bahia"),
    ("CE", "Ceará", "Ceara"),
    ("DF", "Distrito Federal", "Distrito Federal"),
    ("ES", "Espírito Santo", "Espirito Santo"),
    ("GO", "Goiás", "Goias"),
    ("MA", "Maranhão", "Maranhao"),
    ("MT", "Mato Grosso", "Mato Grosso"),
    ("MS", "Mato Grosso do Sul", "Mato Grosso do Sul"),
    ("MG", "Minas Gerais", "Minas Gerais"),
    ("PA", "Pará", "Para"),
    ("PB", "Paraíba", "Paraiba"),
    ("PR", "Paraná", "Parana"),
    ("PE", "Pernambuco", "Pernambuco"),
    ("PI", "Piauí", "Piaui"),
    ("RJ", "Rio de Janeiro", "Rio de Janeiro"),
    ("RN", "Rio Grande do Norte", "Rio Grande do Norte"),
    ("RS", "Rio Grande do Sul", "Rio Grande do Sul"),
    ("RO", "Rondônia", "Rondonia"),
    ("RR", "Roraima", "Roraima"),
    ("SC", "Santa Catarina", "Santa Catarina"),
    ("SP", "São Paulo", "Sao Paulo"),
    ("SE", "Sergipe", "Sergipe"),
    ("TO", "Tocantins", "Tocantins"),
];

pub const CN_PROVINCES: &[Region] = &[
    ("BJ", "北京市", "Beijing"),
    ("TJ", "天津市", "Tianjin"),
    ("HE", "河北省", "Hebei"),
    ("SX", "山西省", "Shanxi"),
    ("NM", "内蒙古自治区", "Nei Mongol"),
    ("LN", "辽宁省", "Liaoning"),
    ("JL", "吉林省", "Jilin"),
    ("HL", "黑龙江省", "Heilongjiang"),
    ("SH", "上海市", "Shanghai"),
    ("JS", "江苏省", "Jiangsu"),
    ("ZJ", "浙江省", "Zhejiang"),
    ("AH", "安徽省", "Anhui"),
    ("FJ", "福建省", "Fujian"),
    ("JX", "江西省", "Jiangxi"),
    ("SD", "山东省", "Shandong"),
    ("HA", "河南省", "Henan"),
    ("HB", "湖北省", "Hubei"),
    ("HN", "湖南省", "Hunan"),
    ("GD", "广东省", "Guangdong"),
    ("GX", "广西壮族自治区", "Guangxi"),
    ("HI", "海南省", "Hainan"),
    ("CQ", "重庆市", "Chongqing"),
    ("SC", "四川省", "Sichuan"),
    ("GZ", "贵州省", "Guizhou"),
    ("YN", "云南省", "Yunnan"),
    ("XZ", "西藏自治区", "Xizang"),
    ("SN", "陕西省", "Shaanxi"),
    ("GS", "甘肃省", "Gansu"),
    ("QH", "青海省", "Qinghai"),
    ("NX", "宁夏回族自治区", "Ningxia"),
    ("XJ", "新疆维吾尔自治区", "Xinjiang"),
];

pub const TW_DIVISIONS: &[Region] = &[
    ("TPE", "臺北市", "Taipei City"),
    ("NWT", "新北市", "New Taipei City"),
    ("TAO", "桃園市", "Taoyuan City"),
    ("TXG", "臺中市", "Taichung City"),
    ("TNN", "臺南市", "Tainan City"),
    ("KHH", "高雄市", "Kaohsiung City"),
    ("KEE", "基隆市", "Keelung City"),
    ("HSZ", "新竹市", "Hsinchu City"),
    ("CYI", "嘉義市", "Chiayi City"),
    ("HSQ", "新竹縣", "Hsinchu County"),
    ("MIA", "苗栗縣", "Miaoli County"),
    ("CHA", "彰化縣", "Changhua County"),
    ("NAN", "南投縣", "Nantou County"),
    ("YUN", "雲林縣", "Yunlin County"),
    ("CYQ", "嘉義縣", "Chiayi County"),
    ("PIF", "屏東縣", "Pingtung County"),
    ("ILA", "宜蘭縣", "Yilan County"),
    ("HUA", "花蓮縣", "Hualien County"),
    ("TTT", "臺東縣", "Taitung County"),
    ("PEN", "澎湖縣", "Penghu County"),
    ("KIN", "金門縣", "Kinmen County"),
    ("LIE", "連江縣", "Lienchiang County"),
];

pub const HK_AREAS: &[Region] =
    &[("HK", "香港島", "Hong Kong Island"), ("KLN", "九龍", "Kowloon"), ("NT", "新界", "New Territories")];

pub const AE_EMIRATES: &[Region] = &[
    ("AZ", "أبو ظبي", "Abu Dhabi"),
    ("DU", "دبي", "Dubai"),
    ("SH", "الشارقة", "Sharjah"),
    ("AJ", "عجمان", "Ajman"),
    ("UQ", "أم القيوين", "Umm Al Quwain"),
    ("RK", "رأس الخيمة", "Ras Al Khaimah"),
    ("FU", "الفجيرة", "Fujairah"),
];

pub const JP_PREFECTURES: &[Region] = &[
    ("01", "北海道", "Hokkaido"),
    ("02", "青森県", "Aomori"),
    ("03", "岩手県", "Iwate"),
    ("04", "宮城県", "Miyagi"),
    ("05", "秋田県", "Akita"),
    ("06", "山形県", "Yamagata"),
    ("07", "福島県", "Fukushima"),
    ("08", "茨城県", "Ibaraki"),
    ("09", "栃木県", "Tochigi"),
    ("10", "群馬県", "Gunma"),
    ("11", "埼玉県", "Saitama"),
    ("12", "千葉県", "Chiba"),
    ("13", "東京都", "Tokyo"),
    ("14", "神奈川県", "Kanagawa"),
    ("15", "新潟県", "Niigata"),
    ("16", "富山県", "Toyama"),
    ("17", "石川県", "Ishikawa"),
    ("18", "福井県", "Fukui"),
    ("19", "山梨県", "Yamanashi"),
    ("20", "長野県", "Nagano"),
    ("21", "岐阜県", "Gifu"),
    ("22", "静岡県", "Shizuoka"),
    ("23", "愛知県", "Aichi"),
    ("24", "三重県", "Mie"),
    ("25", "滋賀県", "Shiga"),
    ("26", "京都府", "Kyoto"),
    ("27", "大阪府", "Osaka"),
    ("28", "兵庫県", "Hyogo"),
    ("29", "奈良県", "Nara"),
    ("30", "和歌山県", "Wakayama"),
    ("31", "鳥取県", "Tottori"),
    ("32", "島根県", "Shimane"),
    ("33", "岡山県", "Okayama"),
    ("34", "広島県", "Hiroshima"),
    ("35", "山口県", "Yamaguchi"),
    ("36", "徳島県", "Tokushima"),
    ("37", "香川県", "Kagawa"),
    ("38", "愛媛県", "Ehime"),
    ("39", "高知県", "Kochi"),
    ("40", "福岡県", "Fukuoka"),
    ("41", "佐賀県", "Saga"),
    ("42", "長崎県", "Nagasaki"),
    ("43", "熊本県", "Kumamoto"),
    ("44", "大分県", "Oita"),
    ("45", "宮崎県", "Miyazaki"),
    ("46", "鹿児島県", "Kagoshima"),
    ("47", "沖縄県", "Okinawa"),
];

pub const KR_PROVINCES: &[Region] = &[
    ("11", "서울특별시", "Seoul"),
    ("26", "부산광역시", "Busan"),
    ("27", "대구광역시", "Daegu"),
    ("28", "인천광역시", "Incheon"),
    ("29", "광주광역시", "Gwangju"),
    ("30", "대전광역시", "Daejeon"),
    ("31", "울산광역시", "Ulsan"),
    ("50", "세종특별자치시", "Sejong"),
    ("41", "경기도", "Gyeonggi-do"),
    ("51", "강원특별자치도", "Gangwon-do"),
    ("43", "충청북도", "Chungcheongbuk-do"),
    ("44", "충청남도", "Chungcheongnam-do"),
    ("52", "전북특별자치도", "Jeonbuk-do"),
    ("46", "전라남도", "Jeollanam-do"),
    ("47", "경상북도", "Gyeongsangbuk-do"),
    ("48", "경상남도", "Gyeongsangnam-do"),
    ("49", "제주특별자치도", "Jeju-do"),
];

/// Countries with their own rules.
pub const RULES: &[PostalRules] = &[
    // ---- Asia-Pacific
    PostalRules {
        country: "CN",
        format: "%Z%n%S%C%D%A%n%O%n%N",
        latin_format: Some("%N%n%O%n%A%n%D%n%C%n%S %Z"),
        required: "ACS",
        upper: "S",
        postal: &["999999"],
        postal_name: "邮政编码",
        regions: CN_PROVINCES,
        largest_first: true,
        example: ["科技南路18号", "南山区", "深圳市", "广东省", "518057"],
        ..DEFAULT
    },
    PostalRules {
        country: "HK",
        format: "%S%D%A%n%O%n%N",
        latin_format: Some("%N%n%O%n%A%n%D%n%S"),
        required: "A",
        upper: "S",
        regions: HK_AREAS,
        largest_first: true,
        example: ["1 Harbour Road", "Wan Chai", "", "Hong Kong Island", ""],
        ..DEFAULT
    },
    PostalRules {
        country: "MO",
        format: "%A%n%O%n%N",
        latin_format: Some("%N%n%O%n%A"),
        required: "A",
        upper: "",
        largest_first: true,
        example: ["Avenida da Praia Grande 762", "", "", "", ""],
        ..DEFAULT
    },
    PostalRules {
        country: "TW",
        format: "%Z%n%S%C%A%n%O%n%N",
        latin_format: Some("%N%n%O%n%A%n%C, %S %Z"),
        required: "ACS",
        upper: "",
        postal: &["999", "99999", "999999"],
        postal_name: "郵遞區號",
        regions: TW_DIVISIONS,
        largest_first: true,
        example: ["重慶南路一段122號", "", "中正區", "臺北市", "10048"],
        ..DEFAULT
    },
    PostalRules {
        country: "JP",
        format: "〒%Z%n%S%C%A%n%O%n%N",
        latin_format: Some("%N%n%O%n%A%n%C, %S %Z"),
        required: "ASZ",
        upper: "S",
        postal: &["999-9999"],
        postal_name: "郵便番号",
        regions: JP_PREFECTURES,
        largest_first: true,
        example: ["丸の内2丁目7-2", "", "千代田区", "東京都", "100-8994"],
        ..DEFAULT
    },
    PostalRules {
        country: "KR",
        format: "%S %C%D%n%A%n%O%n%N%n%Z",
        latin_format: Some("%N%n%O%n%A%n%D%n%C%n%S%n%Z"),
        required: "ACSZ",
        upper: "",
        postal: &["99999"],
        postal_name: "우편번호",
        regions: KR_PROVINCES,
        largest_first: true,
        example: ["세종대로 209", "", "종로구", "서울특별시", "03171"],
        ..DEFAULT
    },
    PostalRules {
        country: "SG",
        format: "%N%n%O%n%A%nSINGAPORE %Z",
        required: "AZ",
        upper: "",
        postal: &["999999"],
        example: ["10 Anson Road #25-08", "", "", "", "079903"],
        ..DEFAULT
    },
    PostalRules {
        country: "MY",
        format: "%N%n%O%n%A%n%D%n%Z %C%n%S",
        required: "ACZ",
        upper: "CS",
        postal: &["99999"],
        example: ["Jalan Sultan Hishamuddin", "", "Kuala Lumpur", "Wilayah Persekutuan", "50050"],
        ..DEFAULT
    },
    PostalRules {
        country: "TH",
        format: "%N%n%O%n%A%n%D %C%n%S %Z",
        required: "AZ",
        upper: "S",
        postal: &["99999"],
        example: ["Charoen Krung Road", "Bang Rak", "", "Bangkok", "10500"],
        ..DEFAULT
    },
    PostalRules {
        country: "VN",
        format: "%N%n%O%n%A%n%C%n%S %Z",
        required: "AC",
        upper: "",
        postal: &["999999"],
        example: ["1 Lê Duẩn", "", "Hà Nội", "", "100000"],
        ..DEFAULT
    },
    PostalRules {
        country: "PH",
        format: "%N%n%O%n%A%n%D, %C%n%Z %S",
        required: "AC",
        upper: "",
        postal: &["9999"],
        example: ["Roxas Boulevard", "Malate", "Manila", "Metro Manila", "1004"],
        ..DEFAULT
    },
    PostalRules {
        country: "ID",
        format: "%N%n%O%n%A%n%C%n%S %Z",
        required: "AS",
        upper: "",
        postal: &["99999"],
        example: ["Jl. Medan Merdeka Selatan 13", "", "Jakarta Pusat", "DKI Jakarta", "10110"],
        ..DEFAULT
    },
    PostalRules {
        country: "IN",
        format: "%N%n%O%n%A%n%C %Z%n%S",
        required: "ACSZ",
        upper: "",
        postal: &["999999", "999 999"],
        postal_name: "PIN code",
        example: ["Rashtrapati Bhavan", "", "New Delhi", "Delhi", "110004"],
        ..DEFAULT
    },
    PostalRules {
        country: "AU",
        format: "%O%n%N%n%A%n%C %S %Z",
        required: "ACSZ",
        upper: "CS",
        postal: &["9999"],
        regions: AU_STATES,
        region_as_code: true,
        example: ["Parliament House", "", "Canberra", "ACT", "2600"],
        ..DEFAULT
    },
    PostalRules {
        country: "NZ",
        format: "%N%n%O%n%A%n%D%n%C %Z",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["1 Queen Street", "", "Auckland", "", "1010"],
        ..DEFAULT
    },
    // ---- Americas
    PostalRules {
        country: "US",
        format: "%N%n%O%n%A%n%C, %S %Z",
        required: "ACSZ",
        upper: "CS",
        postal: &["99999", "99999-9999"],
        postal_name: "ZIP code",
        regions: US_STATES,
        region_as_code: true,
        example: ["1600 Pennsylvania Ave NW", "", "Washington", "DC", "20500"],
        ..DEFAULT
    },
    PostalRules {
        country: "CA",
        format: "%N%n%O%n%A%n%C %S %Z",
        required: "ACSZ",
        upper: "ACNOSZ",
        postal: &["@9@ 9@9"],
        regions: CA_PROVINCES,
        region_as_code: true,
        example: ["24 Sussex Drive", "", "Ottawa", "ON", "K1M 1M4"],
        ..DEFAULT
    },
    PostalRules {
        country: "MX",
        format: "%N%n%O%n%A%n%D%n%Z %C, %S",
        required: "ACZ",
        upper: "CS",
        postal: &["99999"],
        example: ["Av. Paseo de la Reforma 305", "Cuauhtémoc", "Ciudad de México", "CDMX", "06500"],
        ..DEFAULT
    },
    PostalRules {
        country: "BR",
        format: "%O%n%N%n%A%n%D%n%C-%S%n%Z",
        required: "ACSZ",
        upper: "CS",
        postal: &["99999-999"],
        postal_name: "CEP",
        regions: BR_STATES,
        region_as_code: true,
        example: ["Praça dos Três Poderes", "Zona Cívico-Administrativa", "Brasília", "DF", "70150-900"],
        ..DEFAULT
    },
    PostalRules {
        country: "AR",
        format: "%N%n%O%n%A%n%Z %C%n%S",
        required: "AC",
        upper: "ACZ",
        postal: &["@9999@@@", "9999"],
        postal_name: "CPA",
        example: ["Balcarce 50", "", "Buenos Aires", "CABA", "C1064AAB"],
        ..DEFAULT
    },
    PostalRules {
        country: "CL",
        format: "%N%n%O%n%A%n%Z %C%n%S",
        required: "AC",
        upper: "",
        postal: &["9999999"],
        example: ["Moneda s/n", "", "Santiago", "Región Metropolitana", "8340457"],
        ..DEFAULT
    },
    // ---- Europe
    PostalRules {
        country: "GB",
        format: "%N%n%O%n%A%n%C%n%Z",
        required: "ACZ",
        upper: "CZ",
        postal: &["@9 9@@", "@99 9@@", "@@9 9@@", "@@99 9@@", "@9@ 9@@", "@@9@ 9@@"],
        postal_name: "postcode",
        example: ["10 Downing Street", "", "London", "", "SW1A 2AA"],
        ..DEFAULT
    },
    PostalRules {
        country: "IE",
        format: "%N%n%O%n%A%n%D%n%C%n%S%n%Z",
        required: "AC",
        upper: "Z",
        postal: &["@99 ****", "@9@ ****"],
        postal_name: "Eircode",
        example: ["Merrion Street Upper", "", "Dublin 2", "", "D02 R583"],
        ..DEFAULT
    },
    PostalRules {
        country: "DE",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        postal_name: "PLZ",
        example: ["Platz der Republik 1", "", "Berlin", "", "11011"],
        ..DEFAULT
    },
    PostalRules {
        country: "FR",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "CZ",
        postal: &["99999"],
        postal_name: "code postal",
        example: ["55 Rue du Faubourg Saint-Honoré", "", "Paris", "", "75008"],
        ..DEFAULT
    },
    PostalRules {
        country: "IT",
        format: "%N%n%O%n%A%n%Z %C %S",
        required: "ACZ",
        upper: "CS",
        postal: &["99999"],
        postal_name: "CAP",
        example: ["Piazza del Colosseo 1", "", "Roma", "RM", "00184"],
        ..DEFAULT
    },
    PostalRules {
        country: "ES",
        format: "%N%n%O%n%A%n%Z %C %S",
        required: "ACZ",
        upper: "CS",
        postal: &["99999"],
        example: ["Calle de Alcalá 1", "", "Madrid", "", "28014"],
        ..DEFAULT
    },
    PostalRules {
        country: "PT",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999-999"],
        example: ["Praça do Comércio", "", "Lisboa", "", "1100-148"],
        ..DEFAULT
    },
    PostalRules {
        country: "NL",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999 @@"],
        example: ["Binnenhof 1", "", "Den Haag", "", "2513 AA"],
        ..DEFAULT
    },
    PostalRules {
        country: "BE",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Rue de la Loi 16", "", "Bruxelles", "", "1000"],
        ..DEFAULT
    },
    PostalRules {
        country: "LU",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["L-9999", "9999"],
        example: ["4 Rue Notre-Dame", "", "Luxembourg", "", "L-2240"],
        ..DEFAULT
    },
    PostalRules {
        country: "CH",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Bundesplatz 3", "", "Bern", "", "3005"],
        ..DEFAULT
    },
    PostalRules {
        country: "AT",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Ballhausplatz 2", "", "Wien", "", "1010"],
        ..DEFAULT
    },
    PostalRules {
        country: "DK",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Prins Jørgens Gård 1", "", "København K", "", "1218"],
        ..DEFAULT
    },
    PostalRules {
        country: "SE",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["999 99"],
        example: ["Riksgatan 1", "", "Stockholm", "", "100 12"],
        ..DEFAULT
    },
    PostalRules {
        country: "NO",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Karl Johans gate 22", "", "Oslo", "", "0026"],
        ..DEFAULT
    },
    PostalRules {
        country: "FI",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "C",
        postal: &["99999"],
        example: ["Mannerheimintie 30", "", "Helsinki", "", "00100"],
        ..DEFAULT
    },
    PostalRules {
        country: "PL",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["99-999"],
        example: ["ul. Wiejska 4", "", "Warszawa", "", "00-902"],
        ..DEFAULT
    },
    PostalRules {
        country: "CZ",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["999 99"],
        example: ["Sněmovní 4", "", "Praha 1", "", "118 26"],
        ..DEFAULT
    },
    PostalRules {
        country: "HU",
        format: "%N%n%O%n%C%n%A%n%Z",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Kossuth Lajos tér 1-3", "", "Budapest", "", "1055"],
        ..DEFAULT
    },
    PostalRules {
        country: "GR",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["999 99"],
        example: ["Βασιλίσσης Σοφίας 2", "", "Αθήνα", "", "100 21"],
        ..DEFAULT
    },
    PostalRules {
        country: "RU",
        format: "%N%n%O%n%A%n%C%n%S%n%Z",
        required: "ACZ",
        upper: "AC",
        postal: &["999999"],
        postal_name: "индекс",
        example: ["ул. Тверская, 13", "", "Москва", "", "125009"],
        ..DEFAULT
    },
    PostalRules {
        country: "UA",
        format: "%N%n%O%n%A%n%C%n%S%n%Z",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        example: ["вул. Грушевського, 5", "", "Київ", "", "01008"],
        ..DEFAULT
    },
    PostalRules {
        country: "TR",
        format: "%N%n%O%n%A%n%Z %C/%S",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        example: ["Atatürk Bulvarı 1", "", "Çankaya", "Ankara", "06420"],
        ..DEFAULT
    },
    PostalRules {
        country: "RO",
        format: "%N%n%O%n%A%n%Z %C%n%S",
        required: "ACZ",
        upper: "",
        postal: &["999999"],
        example: ["Bulevardul Regina Elisabeta 47", "", "București", "", "050013"],
        ..DEFAULT
    },
    // ---- Middle East and Africa
    PostalRules {
        country: "IL",
        format: "%N%n%O%n%A%n%C %Z",
        required: "ACZ",
        upper: "",
        postal: &["9999999"],
        example: ["Kaplan Street 3", "", "Jerusalem", "", "9195015"],
        ..DEFAULT
    },
    PostalRules {
        country: "AE",
        format: "%N%n%O%n%A%n%C%n%S",
        required: "AS",
        upper: "CS",
        regions: AE_EMIRATES,
        example: ["Sheikh Zayed Road", "", "Dubai", "Dubai", ""],
        ..DEFAULT
    },
    PostalRules {
        country: "SA",
        format: "%N%n%O%n%A%n%C %Z",
        required: "AC",
        upper: "",
        postal: &["99999", "99999-9999"],
        example: ["King Fahd Road", "", "Riyadh", "", "12211"],
        ..DEFAULT
    },
    PostalRules {
        country: "EG",
        format: "%N%n%O%n%A%n%C%n%S%n%Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Tahrir Square", "", "Cairo", "", "11511"],
        ..DEFAULT
    },
    PostalRules {
        country: "ZA",
        format: "%N%n%O%n%A%n%D%n%C%n%Z",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Government Avenue", "Arcadia", "Pretoria", "", "0001"],
        ..DEFAULT
    },
    // ---- more countries
    PostalRules {
        country: "HR",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        example: ["Jurišićeva 13", "", "Zagreb", "", "10000"],
        ..DEFAULT
    },
    PostalRules {
        country: "SI",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Slovenska cesta 32", "", "Ljubljana", "", "1000"],
        ..DEFAULT
    },
    PostalRules {
        country: "SK",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["999 99"],
        example: ["Námestie SNP 35", "", "Bratislava", "", "811 01"],
        ..DEFAULT
    },
    PostalRules {
        country: "BG",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["ul. General Gurko 6", "", "Sofia", "", "1000"],
        ..DEFAULT
    },
    PostalRules {
        country: "RS",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        example: ["Takovska 2", "", "Beograd", "", "11000"],
        ..DEFAULT
    },
    PostalRules {
        country: "LT",
        format: "%O%n%N%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["LT-99999", "99999"],
        example: ["Gedimino pr. 7", "", "Vilnius", "", "LT-01103"],
        ..DEFAULT
    },
    PostalRules {
        country: "LV",
        format: "%N%n%O%n%A%n%C, %Z",
        required: "ACZ",
        upper: "",
        postal: &["LV-9999"],
        example: ["Brīvības bulvāris 32", "", "Rīga", "", "LV-1050"],
        ..DEFAULT
    },
    PostalRules {
        country: "EE",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["99999"],
        example: ["Narva mnt 1", "", "Tallinn", "", "10111"],
        ..DEFAULT
    },
    PostalRules {
        country: "IS",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["999"],
        example: ["Pósthússtræti 5", "", "Reykjavík", "", "101"],
        ..DEFAULT
    },
    PostalRules {
        country: "CY",
        format: "%N%n%O%n%A%n%Z %C",
        required: "ACZ",
        upper: "",
        postal: &["9999"],
        example: ["Eleftherias Square", "", "Nicosia", "", "1010"],
        ..DEFAULT
    },
    PostalRules {
        country: "MT",
        format: "%N%n%O%n%A%n%C%n%Z",
        required: "ACZ",
        upper: "CZ",
        postal: &["@@@ 9999"],
        example: ["Castille Place", "", "Valletta", "", "VLT 1060"],
        ..DEFAULT
    },
    PostalRules {
        country: "BY",
        format: "%N%n%O%n%A%n%Z %C%n%S",
        required: "ACZ",
        upper: "AC",
        postal: &["999999"],
        example: ["pr. Nezavisimosti 10", "", "Minsk", "", "220050"],
        ..DEFAULT
    },
    PostalRules {
        country: "PR",
        format: "%N%n%O%n%A%n%C PR %Z",
        required: "ACZ",
        upper: "ACNOZ",
        postal: &["99999", "99999-9999"],
        postal_name: "ZIP code",
        example: ["100 Calle Fortaleza", "", "San Juan", "", "00901"],
        ..DEFAULT
    },
    PostalRules {
        country: "CO",
        format: "%N%n%O%n%A%n%D%n%C, %S, %Z",
        required: "AC",
        upper: "",
        postal: &["999999"],
        example: ["Carrera 7 # 6-54", "", "Bogotá", "", "111711"],
        ..DEFAULT
    },
    PostalRules {
        country: "PE",
        format: "%N%n%O%n%A%n%C %Z%n%S",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Jirón Conde de Superunda 170", "", "Lima", "", "15001"],
        ..DEFAULT
    },
    PostalRules {
        country: "EC",
        format: "%N%n%O%n%A%n%Z%n%C",
        required: "AC",
        upper: "CZ",
        postal: &["999999"],
        example: ["Avenida Eloy Alfaro", "", "Quito", "", "170150"],
        ..DEFAULT
    },
    PostalRules {
        country: "CR",
        format: "%N%n%O%n%A%n%S, %C%n%Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Avenida Central", "", "San José", "", "10101"],
        ..DEFAULT
    },
    PostalRules {
        country: "UY",
        format: "%N%n%O%n%A%n%Z %C %S",
        required: "AC",
        upper: "CS",
        postal: &["99999"],
        example: ["Avenida 18 de Julio 1360", "", "Montevideo", "", "11200"],
        ..DEFAULT
    },
    PostalRules {
        country: "DO",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Avenida Winston Churchill", "", "Santo Domingo", "", "10148"],
        ..DEFAULT
    },
    PostalRules {
        country: "GT",
        format: "%N%n%O%n%A%n%Z- %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["7a Avenida 11-67 Zona 1", "", "Ciudad de Guatemala", "", "01001"],
        ..DEFAULT
    },
    PostalRules {
        country: "PK",
        format: "%N%n%O%n%A%n%D%n%C-%Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Constitution Avenue", "", "Islamabad", "", "44000"],
        ..DEFAULT
    },
    PostalRules {
        country: "BD",
        format: "%N%n%O%n%A%n%D%n%C - %Z",
        required: "AC",
        upper: "",
        postal: &["9999"],
        example: ["Abdul Gani Road", "", "Dhaka", "", "1000"],
        ..DEFAULT
    },
    PostalRules {
        country: "LK",
        format: "%N%n%O%n%A%n%C%n%Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["D. R. Wijewardena Mawatha", "", "Colombo", "", "00100"],
        ..DEFAULT
    },
    PostalRules {
        country: "NP",
        format: "%N%n%O%n%A%n%C %Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Sundhara", "", "Kathmandu", "", "44600"],
        ..DEFAULT
    },
    PostalRules {
        country: "MM",
        format: "%N%n%O%n%A%n%C, %Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Bo Aung Kyaw Street", "", "Yangon", "", "11181"],
        ..DEFAULT
    },
    PostalRules {
        country: "LA",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Lane Xang Avenue", "", "Vientiane", "", "01000"],
        ..DEFAULT
    },
    PostalRules {
        country: "BN",
        format: "%N%n%O%n%A%n%C %Z",
        required: "AZ",
        upper: "CZ",
        postal: &["@@9999"],
        example: ["Jalan Elizabeth II", "", "Bandar Seri Begawan", "", "BS8811"],
        ..DEFAULT
    },
    PostalRules {
        country: "MN",
        format: "%N%n%O%n%A%n%C%n%S %Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Peace Avenue", "", "Ulaanbaatar", "", "14200"],
        ..DEFAULT
    },
    PostalRules {
        country: "IR",
        format: "%O%n%N%n%A%n%C%n%S%n%Z",
        required: "AC",
        upper: "",
        postal: &["99999-99999"],
        example: ["Imam Khomeini Street", "", "Tehran", "", "11369-14731"],
        ..DEFAULT
    },
    PostalRules {
        country: "OM",
        format: "%N%n%O%n%A%n%Z%n%C",
        required: "AC",
        upper: "",
        postal: &["999"],
        example: ["Sultan Qaboos Street", "", "Muscat", "", "113"],
        ..DEFAULT
    },
    PostalRules {
        country: "BH",
        format: "%N%n%O%n%A%n%C %Z",
        required: "AC",
        upper: "",
        postal: &["999", "9999"],
        example: ["Government Avenue", "", "Manama", "", "317"],
        ..DEFAULT
    },
    PostalRules {
        country: "QA",
        format: "%N%n%O%n%A%n%C",
        required: "A",
        upper: "C",
        postal: &[],
        example: ["Corniche Street", "", "Doha", "", ""],
        ..DEFAULT
    },
    PostalRules {
        country: "KW",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Fahad Al-Salem Street", "", "Kuwait City", "", "13001"],
        ..DEFAULT
    },
    PostalRules {
        country: "JO",
        format: "%N%n%O%n%A%n%C %Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["King Hussein Street", "", "Amman", "", "11118"],
        ..DEFAULT
    },
    PostalRules {
        country: "IQ",
        format: "%O%n%N%n%A%n%C, %S%n%Z",
        required: "AC",
        upper: "CS",
        postal: &["99999"],
        example: ["Rashid Street", "", "Baghdad", "", "10001"],
        ..DEFAULT
    },
    PostalRules {
        country: "MA",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Avenue Mohammed V", "", "Rabat", "", "10000"],
        ..DEFAULT
    },
    PostalRules {
        country: "DZ",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Boulevard Zighoud Youcef", "", "Alger", "", "16000"],
        ..DEFAULT
    },
    PostalRules {
        country: "TN",
        format: "%N%n%O%n%A%n%Z %C",
        required: "AC",
        upper: "",
        postal: &["9999"],
        example: ["Avenue Habib Bourguiba", "", "Tunis", "", "1000"],
        ..DEFAULT
    },
    PostalRules {
        country: "KE",
        format: "%N%n%O%n%A%n%C%n%Z",
        required: "AC",
        upper: "",
        postal: &["99999"],
        example: ["Kenyatta Avenue", "", "Nairobi", "", "00100"],
        ..DEFAULT
    },
    PostalRules {
        country: "NG",
        format: "%N%n%O%n%A%n%C %Z%n%S",
        required: "AC",
        upper: "CS",
        postal: &["999999"],
        example: ["Broad Street", "", "Lagos", "", "100001"],
        ..DEFAULT
    },
];

/// The rules of a country (by alpha-2 code), or `None` when it has no entry of its own.
pub fn for_country(alpha2: &str) -> Option<&'static PostalRules> {
    RULES.iter().find(|r| r.country.eq_ignore_ascii_case(alpha2))
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '-'
}

/// Matches a typed postal code against a pattern; returns the canonical form.
fn match_pattern(pattern: &str, compact: &[char]) -> Option<String> {
    let pat: Vec<char> = pattern.chars().filter(|c| !is_separator(*c)).collect();
    if pat.len() != compact.len() {
        return None;
    }
    let ok = pat.iter().zip(compact).all(|(p, c)| match p {
        '9' => c.is_ascii_digit(),
        '@' => c.is_ascii_uppercase(),
        '*' => c.is_ascii_uppercase() || c.is_ascii_digit(),
        lit => lit == c,
    });
    if !ok {
        return None;
    }
    let mut out = String::new();
    let mut k = 0;
    for p in pattern.chars() {
        if is_separator(p) {
            out.push(p);
        } else {
            out.push(compact[k]);
            k += 1;
        }
    }
    Some(out)
}

/// Validates a postal code against the country's patterns: the canonical form (capitals,
/// the country's separators) or `None` when it does not match any.
pub fn normalise_postal_code(rules: &PostalRules, code: &str) -> Option<String> {
    let compact: Vec<char> = code
        .chars()
        .map(super::script::fullwidth)
        .filter(|c| !is_separator(*c) && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if compact.is_empty() || compact.len() > 16 {
        return None;
    }
    rules.postal.iter().find_map(|p| match_pattern(p, &compact))
}

/// A pattern as a regular expression, for documentation and clients (`^\d{3}-?\d{4}$`).
pub fn pattern_regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '9' => out.push_str("\\d"),
            '@' => out.push_str("[A-Z]"),
            '*' => out.push_str("[A-Z0-9]"),
            ' ' => out.push_str(" ?"),
            '-' => out.push_str("-?"),
            c => out.push(c),
        }
    }
    out.push('$');
    out
}

/// Finds a region by code, native name or Latin name (case and spacing ignored; the native
/// name may be written without its unit word: `广东` for `广东省`, `東京` for `東京都`).
pub fn find_region(rules: &PostalRules, text: &str) -> Option<&'static Region> {
    let fold = |s: &str| -> String {
        s.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').flat_map(char::to_lowercase).collect()
    };
    let q = fold(text);
    if q.is_empty() {
        return None;
    }
    rules.regions.iter().find(|(code, native, latin)| {
        let n = fold(native);
        fold(code) == q
            || n == q
            || fold(latin) == q
            || fold(latin).trim_end_matches("do") == q.trim_end_matches("do")
            || (n.starts_with(&q) && q.chars().count() >= 2 && !q.is_ascii())
            || q.strip_suffix("sheng").or_else(|| q.strip_suffix("shi")).is_some_and(|s| s == fold(latin))
    })
}
