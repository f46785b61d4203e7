//! Outbound requests that cannot be turned against the inside (SSRF): webhooks and any other
//! URL an organisation gives us to call.
//!
//! A target URL must be `http` or `https`, carry no user name or password, and name a host. Its
//! host is resolved **once**; every address it resolves to must be public (not loopback,
//! private, link-local, carrier-grade NAT, multicast, unspecified, documentation or other
//! special-purpose ranges, nor an IPv6 address that embeds one of those, which covers cloud
//! metadata services such as 169.254.169.254, fd00:ec2::254 and 100.100.100.200). The caller
//! then connects to one of exactly those checked addresses ([`Vetted::connect`], or an HTTP
//! client pinned to them with [`Vetted::addrs`]), so a second DNS answer cannot redirect the
//! request (DNS rebinding). Redirects must not be followed blindly: vet each new location.
//!
//! Operators can allow private targets (an intranet webhook receiver) with an allow-list of
//! host names and address ranges ([`OutboundPolicy::parse`], `MAILROOM_OUTBOUND_ALLOW`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use url::Url;

/// Why an outbound target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("the URL is not valid: {0}")]
    BadUrl(String),
    #[error("only http and https URLs may be called")]
    Scheme,
    #[error("URLs with a user name or password are not accepted")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} may not be called from this server")]
    ForbiddenHost(String),
    #[error("{host} resolves to {addr}, which is not a public address")]
    ForbiddenAddress { host: String, addr: IpAddr },
    #[error("{0} could not be resolved")]
    Resolve(String),
    #[error("could not connect to {0}")]
    Connect(String),
    #[error("the allow-list entry {0:?} is not a host name, an address or an address range")]
    BadAllowEntry(String),
}

/// An address range such as `10.20.0.0/16` or `fd12:3456::/48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(s: &str) -> Option<IpRange> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpRange { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u128::from(net.to_bits()) << 96, u128::from(ip.to_bits()) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(net.to_bits(), ip.to_bits(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix.min(128)));
    a & mask == b & mask
}

/// Which targets may be called besides public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    hosts: Vec<String>,
    ranges: Vec<IpRange>,
}

impl OutboundPolicy {
    /// Parses an allow-list: host names, addresses and ranges separated by commas or spaces, e.g.
    /// `hooks.intranet.example, 10.20.0.0/16, fd12::/16`. An empty list allows public targets only.
    pub fn parse(list: &str) -> Result<OutboundPolicy, OutboundError> {
        let mut p = OutboundPolicy::default();
        for entry in list.split([',', ' ', '\n', '\t']).map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(r) = IpRange::parse(entry) {
                p.ranges.push(r);
            } else if is_host_name(entry) {
                p.hosts.push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(OutboundError::BadAllowEntry(entry.to_string()));
            }
        }
        Ok(p)
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h == host)
    }

    /// Whether `addr` (resolved from `host`) may be called.
    pub fn permits(&self, host: &str, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        if never_callable(addr) {
            return false;
        }
        is_public(addr) || self.host_allowed(host) || self.ranges.iter().any(|r| r.contains(addr))
    }

    /// Checks a URL's shape and resolved addresses against this policy (see the module docs).
    pub async fn vet(&self, raw: &str) -> Result<Vetted, OutboundError> {
        let target = parse_target(raw)?;
        let addrs: Vec<SocketAddr> = match target.url.host() {
            Some(url::Host::Ipv4(a)) => vec![SocketAddr::new(IpAddr::V4(a), target.port)],
            Some(url::Host::Ipv6(a)) => vec![SocketAddr::new(IpAddr::V6(a), target.port)],
            _ => {
                let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
                match tokio::time::timeout(Duration::from_secs(10), lookup).await {
                    Ok(Ok(found)) => found.collect(),
                    _ => return Err(OutboundError::Resolve(target.host.clone())),
                }
            }
        };
        self.vet_addrs(target, addrs)
    }

    /// Vets `raw` ([`OutboundPolicy::vet`]) and returns it as a target for the notification
    /// channels' HTTP sender (webhooks, robots, SMS providers), pinned to the checked addresses.
    pub async fn http_target(&self, raw: &str) -> Result<mailroom_notify::HttpTarget, OutboundError> {
        Ok(self.vet(raw).await?.http_target())
    }

    /// Checks a parsed target against addresses already resolved for it.
    pub fn vet_addrs(&self, target: Target, addrs: Vec<SocketAddr>) -> Result<Vetted, OutboundError> {
        if addrs.is_empty() {
            return Err(OutboundError::Resolve(target.host.clone()));
        }
        if is_reserved_name(&target.host) && !self.host_allowed(&target.host) {
            return Err(OutboundError::ForbiddenHost(target.host.clone()));
        }
        // One bad address refuses the whole target: an attacker controlling DNS could mix them.
        if let Some(bad) = addrs.iter().find(|a| !self.permits(&target.host, a.ip())) {
            return Err(OutboundError::ForbiddenAddress { host: target.host.clone(), addr: bad.ip() });
        }
        Ok(Vetted { target, addrs })
    }
}

/// A URL that passed the shape checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    /// Lower-case host name or address, for the `Host` header and TLS server name.
    pub host: String,
    pub port: u16,
}

/// A target and the checked addresses to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vetted {
    pub target: Target,
    addrs: Vec<SocketAddr>,
}

impl Vetted {
    /// The checked addresses. An HTTP client must connect only to these (for example
    /// `reqwest::ClientBuilder::resolve_to_addrs(host, addrs)` with redirects turned off).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The target for the notification channels' HTTP sender, pinned to the checked addresses.
    pub fn http_target(&self) -> mailroom_notify::HttpTarget {
        mailroom_notify::HttpTarget { url: self.target.url.clone(), addrs: self.addrs.clone() }
    }

    /// Opens a TCP connection to the first checked address that answers.
    pub async fn connect(&self, timeout: Duration) -> Result<tokio::net::TcpStream, OutboundError> {
        for addr in &self.addrs {
            if let Ok(Ok(s)) = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
                return Ok(s);
            }
        }
        Err(OutboundError::Connect(self.target.host.clone()))
    }
}

/// Parses and checks the shape of an outbound URL.
pub fn parse_target(raw: &str) -> Result<Target, OutboundError> {
    if raw.len() > 2048 {
        return Err(OutboundError::BadUrl("longer than 2048 characters".into()));
    }
    let url = Url::parse(raw.trim()).map_err(|e| OutboundError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OutboundError::Credentials);
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').to_ascii_lowercase(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(OutboundError::NoHost),
    };
    if host.is_empty() {
        return Err(OutboundError::NoHost);
    }
    let port = url.port_or_known_default().ok_or(OutboundError::Scheme)?;
    if port == 0 {
        return Err(OutboundError::BadUrl("port 0".into()));
    }
    Ok(Target { url, host, port })
}

fn is_host_name(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Names that always mean this machine or a cloud metadata service.
fn is_reserved_name(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "metadata"
        || host == "metadata.google.internal"
        || host == "instance-data"
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Addresses no allow-list can make callable.
fn never_callable(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.is_unspecified() || a.is_broadcast() || a.is_multicast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    }
}

/// Whether an address is publicly routable (and so safe to call without an allow-list).
pub fn is_public(addr: IpAddr) -> bool {
    match canonical(addr) {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    let special = o0 == 0 // "this network"
        || o0 == 10 // private
        || o0 == 127 // loopback
        || (o0 == 100 && (64..128).contains(&o1)) // carrier-grade NAT (and Alibaba Cloud metadata)
        || (o0 == 169 && o1 == 254) // link-local, cloud metadata
        || (o0 == 172 && (16..32).contains(&o1)) // private
        || (o0 == 192 && o1 == 0 && o2 == 0) // IETF protocol assignments
        || (o0 == 192 && o1 == 0 && o2 == 2) // documentation
        || (o0 == 192 && o1 == 88 && o2 == 99) // 6to4 relay anycast
        || (o0 == 192 && o1 == 168) // private
        || (o0 == 198 && (o1 == 18 || o1 == 19)) // benchmarking
        || (o0 == 198 && o1 == 51 && o2 == 100) // documentation
        || (o0 == 203 && o1 == 0 && o2 == 113) // documentation
        || o0 >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    let bits = a.to_bits();
    let embedded_v4 = |shift: u32| Ipv4Addr::from_bits((bits >> shift) as u32);
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return is_public_v4(embedded_v4(0));
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded_v4(80));
    }
    // Only global unicast (2000::/3) is routed on the internet.
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001::/23 holds IETF protocol assignments (Teredo, ORCHID …); 2001:db8::/32 and
    // 3fff::/20 are for documentation.
    let special = (s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8)) || (s[0] == 0x3fff && s[1] < 0x1000);
    !special
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_not_public() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "127.0.0.1",
            "127.255.255.254",
            "100.64.0.1",
            "100.100.100.200",
            "100.127.255.255",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:0001::1",
            "2002:c0a8:0101::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
        ] {
            assert!(!is_public(ip(a)), "{a} must not be public");
        }
    }

    #[test]
    fn ordinary_addresses_are_public() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "223.5.5.5",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2400:3200::1",
            "2606:4700:4700::1111",
        ] {
            assert!(is_public(ip(a)), "{a} must be public");
        }
    }

    #[test]
    fn url_shapes() {
        assert!(parse_target("https://hooks.example.com/x?y=1").is_ok());
        assert_eq!(parse_target("HTTPS://Hooks.Example.COM./x").unwrap().host, "hooks.example.com");
        assert_eq!(parse_target("http://example.com").unwrap().port, 80);
        assert_eq!(parse_target("https://example.com:8443/").unwrap().port, 8443);
        assert_eq!(parse_target("ftp://example.com/"), Err(OutboundError::Scheme));
        assert_eq!(parse_target("file:///etc/passwd"), Err(OutboundError::Scheme));
        assert_eq!(parse_target("gopher://example.com/"), Err(OutboundError::Scheme));
        assert_eq!(parse_target("https://user:pw@example.com/"), Err(OutboundError::Credentials));
        assert_eq!(parse_target("https://user@example.com/"), Err(OutboundError::Credentials));
        assert!(matches!(parse_target("not a url"), Err(OutboundError::BadUrl(_))));
        assert!(matches!(parse_target("https://example.com:0/"), Err(OutboundError::BadUrl(_))));
        assert!(matches!(
            parse_target(&format!("https://example.com/{}", "a".repeat(3000))),
            Err(OutboundError::BadUrl(_))
        ));
        // Numeric spellings of loopback are normalised by the URL parser, then refused by address.
        assert_eq!(parse_target("http://2130706433/").unwrap().host, "127.0.0.1");
        assert_eq!(parse_target("http://0x7f.1/").unwrap().host, "127.0.0.1");
        assert_eq!(parse_target("http://[::ffff:7f00:1]/").unwrap().host, "::ffff:127.0.0.1");
    }

    fn vet(policy: &OutboundPolicy, url: &str, addrs: &[&str]) -> Result<Vetted, OutboundError> {
        let t = parse_target(url)?;
        let port = t.port;
        policy.vet_addrs(t, addrs.iter().map(|a| SocketAddr::new(ip(a), port)).collect())
    }

    #[test]
    fn every_resolved_address_must_pass() {
        let open = OutboundPolicy::default();
        assert!(vet(&open, "https://hooks.example.com/", &["93.184.216.34"]).is_ok());
        assert!(matches!(
            vet(&open, "https://hooks.example.com/", &["93.184.216.34", "10.0.0.5"]),
            Err(OutboundError::ForbiddenAddress { .. })
        ));
        assert!(matches!(vet(&open, "https://rebind.example/", &[]), Err(OutboundError::Resolve(_))));
        assert!(matches!(
            vet(&open, "http://localhost:8080/", &["93.184.216.34"]),
            Err(OutboundError::ForbiddenHost(_))
        ));
        assert!(matches!(
            vet(&open, "http://metadata.google.internal/", &["169.254.169.254"]),
            Err(OutboundError::ForbiddenHost(_))
        ));
    }

    #[test]
    fn allow_list_opens_private_targets() {
        let p = OutboundPolicy::parse("hooks.intranet.example, 10.20.0.0/16 fd12::/16").unwrap();
        assert!(vet(&p, "https://hooks.intranet.example/", &["192.168.7.7"]).is_ok());
        assert!(vet(&p, "https://other.example/", &["10.20.3.4"]).is_ok());
        assert!(vet(&p, "https://other.example/", &["fd12::9"]).is_ok());
        assert!(vet(&p, "https://other.example/", &["::ffff:10.20.3.4"]).is_ok());
        assert!(vet(&p, "https://other.example/", &["10.21.0.1"]).is_err());
        assert!(vet(&p, "https://other.example/", &["192.168.7.7"]).is_err());
        // Unspecified and multicast addresses are never callable.
        let all = OutboundPolicy::parse("0.0.0.0/0 ::/0").unwrap();
        assert!(vet(&all, "http://x.example/", &["10.0.0.1"]).is_ok());
        assert!(vet(&all, "http://x.example/", &["0.0.0.0"]).is_err());
        assert!(vet(&all, "http://x.example/", &["224.0.0.1"]).is_err());
        assert!(vet(&all, "http://x.example/", &["::"]).is_err());
        assert!(matches!(OutboundPolicy::parse("10.0.0.0/33"), Err(OutboundError::BadAllowEntry(_))));
        assert!(matches!(OutboundPolicy::parse("http://x/"), Err(OutboundError::BadAllowEntry(_))));
        assert_eq!(OutboundPolicy::parse(" ").unwrap(), OutboundPolicy::default());
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("192.168.0.0/16").unwrap();
        assert!(r.contains(ip("192.168.255.1")));
        assert!(!r.contains(ip("192.169.0.1")));
        assert!(!r.contains(ip("::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpRange::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:ffff::1")));
        assert!(IpRange::parse("::1").unwrap().contains(ip("::1")));
        assert!(IpRange::parse("x/8").is_none());
    }

    #[tokio::test]
    async fn connects_only_where_allowed() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/hook");
        let refused = OutboundPolicy::default().vet(&url).await;
        assert!(matches!(refused, Err(OutboundError::ForbiddenAddress { .. })), "{refused:?}");
        let allowed = OutboundPolicy::parse("127.0.0.1/32").unwrap().vet(&url).await.unwrap();
        assert_eq!(allowed.addrs(), [SocketAddr::new(ip("127.0.0.1"), port)]);
        let conn = allowed.connect(Duration::from_secs(5)).await;
        assert!(conn.is_ok());
        let target = OutboundPolicy::parse("127.0.0.1/32").unwrap().http_target(&url).await.unwrap();
        assert_eq!((target.url.as_str(), target.addrs.as_slice()), (url.as_str(), allowed.addrs()));
        assert!(OutboundPolicy::default().http_target(&url).await.is_err());
        // A name that resolves to loopback is refused after resolution.
        let by_name = OutboundPolicy::default().vet(&format!("http://localhost:{port}/")).await;
        assert!(by_name.is_err());
    }
}
