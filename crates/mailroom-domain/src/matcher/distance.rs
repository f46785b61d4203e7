//! Bounded Damerau–Levenshtein distance (optimal string alignment) over bytes.

/// Longest key compared; longer ones never match fuzzily.
pub const MAX_LEN: usize = 64;

/// The edit distance between `a` and `b` counting insertions, deletions, substitutions and
/// swaps of two neighbouring bytes, if it is at most `k`; `None` when larger. Only the band of
/// width `2k + 1` around the diagonal is computed.
pub fn within(a: &[u8], b: &[u8], k: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > k || n > MAX_LEN || m > MAX_LEN {
        return None;
    }
    const BIG: u8 = 200;
    let mut pp = [BIG; MAX_LEN + 1];
    let mut p = [BIG; MAX_LEN + 1];
    for (j, cell) in p.iter_mut().enumerate().take(m.min(k) + 1) {
        *cell = j as u8;
    }
    for i in 1..=n {
        let mut c = [BIG; MAX_LEN + 1];
        let lo = i.saturating_sub(k);
        let hi = m.min(i + k);
        let mut row_min = BIG;
        if lo == 0 {
            c[0] = i as u8;
            row_min = c[0];
        }
        for j in lo.max(1)..=hi {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = p[j].saturating_add(1).min(c[j - 1].saturating_add(1)).min(p[j - 1].saturating_add(cost));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(pp[j - 2].saturating_add(1));
            }
            c[j] = v;
            row_min = row_min.min(v);
        }
        if usize::from(row_min) > k {
            return None;
        }
        pp = p;
        p = c;
    }
    let d = usize::from(p[m]);
    (d <= k).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Plain full-matrix optimal string alignment distance.
    fn reference(a: &[u8], b: &[u8]) -> usize {
        let (n, m) = (a.len(), b.len());
        let mut d = vec![vec![0usize; m + 1]; n + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=n {
            for j in 1..=m {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[i - 2][j - 2] + 1);
                }
                d[i][j] = v;
            }
        }
        d[n][m]
    }

    #[test]
    fn examples() {
        assert_eq!(within(b"zhangweijie", b"zhangweijie", 2), Some(0));
        assert_eq!(within(b"zhangweijei", b"zhangweijie", 2), Some(1));
        assert_eq!(within(b"zhnagweijie", b"zhangweijie", 1), Some(1));
        assert_eq!(within(b"zhangwiejei", b"zhangweijie", 2), Some(2));
        assert_eq!(within(b"zhangwei", b"zhangweijie", 2), None);
        assert_eq!(within(b"smith", b"smyth", 1), Some(1));
        assert_eq!(within(b"", b"ab", 2), Some(2));
    }

    proptest! {
        #[test]
        fn agrees_with_the_full_matrix(a in "[abc]{0,12}", b in "[abc]{0,12}", k in 0usize..4) {
            let full = reference(a.as_bytes(), b.as_bytes());
            let expected = (full <= k).then_some(full);
            prop_assert_eq!(within(a.as_bytes(), b.as_bytes(), k), expected);
        }
    }
}
