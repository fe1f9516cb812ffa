package config

import (
	"errors"
	"flag"
	"strconv"
	"strings"
	"time"
)

// option is one setting: a flag, the environment variable behind it, and
// what Usage says about it.
type option struct {
	group  string     // Usage heading
	name   string     // flag name, without dashes
	env    string     // environment variable; "" when the flag has none
	def    string     // default as Usage shows it; "" for none
	usage  string     // one line for Usage
	secret bool       // never echo the value in an error
	value  flag.Value // bound to a field of the configuration
}

// stringValue sets a string, trimmed, and lower-cased when lower is set.
type stringValue struct {
	p     *string
	lower bool
}

func (v *stringValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if v.lower {
		s = strings.ToLower(s)
	}
	*v.p = s
	return nil
}

func (v *stringValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

// boolValue accepts 1, true, yes, on and 0, false, no, off (any case).
type boolValue struct{ p *bool }

func (v *boolValue) IsBoolFlag() bool { return true }

func (v *boolValue) Set(s string) error {
	b, err := parseBool(s)
	if err != nil {
		return err
	}
	*v.p = b
	return nil
}

func (v *boolValue) String() string {
	if v == nil || v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on", "t", "y":
		return true, nil
	case "0", "false", "no", "off", "f", "n", "":
		return false, nil
	}
	return false, errors.New("use 1, true or yes to turn it on, and 0, false or no to turn it off")
}

// durationValue accepts a Go duration such as 90s, 5m or 1h30m, and 0.
type durationValue struct{ p *time.Duration }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return errors.New("use a Go duration such as 30s, 5m or 1h")
	}
	*v.p = d
	return nil
}

func (v *durationValue) String() string {
	if v == nil || v.p == nil {
		return "0s"
	}
	return v.p.String()
}

// intValue accepts a decimal integer.
type intValue struct{ p *int }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("use a whole number")
	}
	*v.p = n
	return nil
}

func (v *intValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}

// int64Value accepts a decimal integer.
type int64Value struct{ p *int64 }

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return errors.New("use a whole number")
	}
	*v.p = n
	return nil
}

func (v *int64Value) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatInt(*v.p, 10)
}

// floatValue accepts a decimal number.
type floatValue struct{ p *float64 }

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return errors.New("use a number such as 1 or 0.5")
	}
	*v.p = f
	return nil
}

func (v *floatValue) String() string {
	if v == nil || v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

// listValue accepts comma-separated items (spaces around them are dropped,
// empty items too). A flag given several times adds to the list.
type listValue struct{ p *[]string }

func (v *listValue) Set(s string) error {
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*v.p = append(*v.p, item)
		}
	}
	return nil
}

func (v *listValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}
