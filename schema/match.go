package schema

// The matchers below implement the patterns the schemas show, without
// regexps: a regexp with counted repetition costs start-up time, and these
// run on every tool call. A test checks them against the patterns.

// IsE164 matches E164Pattern: "+", a digit 1-9, then 6 to 14 digits.
func IsE164(v string) bool {
	if len(v) < 8 || len(v) > 16 || v[0] != '+' || v[1] < '1' || v[1] > '9' {
		return false
	}
	for i := 2; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// IsFieldName matches FieldNamePattern.
func IsFieldName(v string) bool {
	if len(v) < 1 || len(v) > MaxFieldNameLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// IsCallID matches CallIDPattern without a regexp (whose counted
// repetition is costly to compile at start-up).
func IsCallID(v string) bool {
	if len(v) < 1 || len(v) > MaxCallIDLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// IsCampaignID matches CampaignIDPattern: "cmp_" then 16 to 64 lower-case
// hex digits.
func IsCampaignID(v string) bool {
	if len(v) < 4+16 || len(v) > 4+64 || v[:4] != "cmp_" {
		return false
	}
	for i := 4; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
