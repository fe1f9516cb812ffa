package safety

import "strings"

// Policy is the operator's destination policy. Entries are E.164 numbers or
// prefixes such as "+1415" or "+44", already validated by config ("+" then
// 1-15 digits).
type Policy struct {
	Allow, Deny []string
}

// Check reports whether the destination may be called. When it may not, reason
// is a one-sentence explanation for the agent that names the destination only
// in masked form (see MaskNumber).
//
// Deny wins over allow. With a non-empty Allow list, anything that matches no
// allow entry is refused (fail closed). An entry matches when the number starts
// with it (an exact number is a prefix of itself); empty entries match nothing.
// Nothing is normalised: the input is expected to be E.164 already.
func (p Policy) Check(to string) (ok bool, reason string) {
	if matchAny(p.Deny, to) {
		return false, "destination " + MaskNumber(to) + " matches the operator's deny list"
	}
	if len(p.Allow) > 0 && !matchAny(p.Allow, to) {
		return false, "destination " + MaskNumber(to) + " is not on the operator's allow list"
	}
	return true, ""
}

func matchAny(entries []string, to string) bool {
	for _, e := range entries {
		if e != "" && strings.HasPrefix(to, e) {
			return true
		}
	}
	return false
}

// MaskNumber masks a phone number for display and logs: a leading "+" and the
// last four characters are kept, everything else becomes '*'
// ("+14155550123" -> "+*******0123"). Masking is idempotent, so an already
// masked number passes through unchanged.
func MaskNumber(n string) string {
	r := []rune(n)
	start := 0
	if len(r) > 0 && r[0] == '+' {
		start = 1
	}
	for i := start; i < len(r)-4; i++ {
		r[i] = '*'
	}
	return string(r)
}
