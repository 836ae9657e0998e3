-- side by side needs equal rows
-- expect: ad: concat_cols
-- expect: rows differ
ad.concat_cols{ad.var(array.ones{2, 3}), ad.var(array.ones{3, 1})}
