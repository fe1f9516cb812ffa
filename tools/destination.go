package tools

import (
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/callrules"
	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/byourside/bys-mcp/schema"
)

// checkNumber is the number check: to must be an E.164 number of a
// possible length for its country code. A refusal is invalid_number, with
// the E.164 form of a national number as structuredContent.suggestion.
func (d *Deps) checkNumber(to string) (numbering.Number, *toolError) {
	num, problem := numbering.Check(to, d.DefaultRegion)
	if problem == nil {
		return num, nil
	}
	terr := newToolError("invalid_number", nil, false, "argument \"to\": "+problem.Reason)
	if problem.Suggestion != "" {
		terr.Extra = map[string]any{"suggestion": problem.Suggestion}
	}
	return num, terr
}

// numberWarnings are what the result tells the user about a number that
// was still placed.
func numberWarnings(num numbering.Number) []string {
	if num.Valid {
		return nil
	}
	return []string{fmt.Sprintf("%s has a possible length but lies in no range the numbering plan lists as in use; it was placed anyway (numbering data goes stale), but if the call fails, check the number with the user.", num.E164)}
}

// checkHours is the calling-hours check at the destination. Numbers not
// tied to a place are exempt; a number held to hours whose zone is unknown
// is refused (fail closed).
func (d *Deps) checkHours(num numbering.Number) *toolError {
	if !num.TiedToPlace() {
		return nil
	}
	var rules []callrules.Rule
	if d.RegionalRules {
		rules = callrules.For(num.Region, num.E164)
	}
	if !d.CallingHours.On() && len(rules) == 0 {
		return nil
	}
	now := d.now()
	v, err := callrules.Check(d.CallingHours, rules, num.TimeZones, now)
	if err != nil { // no zone, or one the database lacks: fail closed
		return newToolError("outside_calling_hours", nil, false, fmt.Sprintf(
			"the local time at %s cannot be known (no time zone for the number), so it cannot be checked against calling hours (%s) and no call was placed: check the number with the user", num.E164, d.CallingHours))
	}
	if v.Open {
		return nil
	}
	place := callhours.Place(v.Zone)
	window := fmt.Sprintf("%s at the destination", d.CallingHours)
	if v.Rule != nil {
		// A published rule refused: name it.
		window = v.Reason()
	}
	hint := fmt.Sprintf("It is %s in %s (%s), outside calling hours (%s), so no call was placed", callhours.Clock(v.Local), place, v.Zone, window)
	extra := map[string]any{"timeZone": v.Zone.String(), "localTime": v.Local.Format(time.RFC3339)}
	if !v.OpensAt.IsZero() {
		when := callhours.Clock(v.OpensAt)
		if v.OpensAt.Sub(now) >= 24*time.Hour {
			when = v.OpensAt.Format("Monday") + " " + when
		}
		hint = fmt.Sprintf("It is %s in %s; calls open at %s, in %s (%s). No call was placed: tell the user, or schedule it with place_call's notBefore: %s",
			callhours.Clock(v.Local), place, when, callhours.Until(v.OpensAt.Sub(now)), window, v.OpensAt.Format(time.RFC3339))
		extra["opensAt"] = v.OpensAt.Format(time.RFC3339)
	} else {
		hint += ", and the window never opens in every time zone of this number: tell the user"
	}
	if v.Rule != nil {
		extra["rule"] = v.Rule.Name()
	}
	terr := newToolError("outside_calling_hours", nil, true, hint)
	terr.Extra = extra
	return terr
}

// destinationOf is the destination facts of a placed call, and the
// sentence of its result about where and when it rings ("" when the zone
// is not known or the number spans several).
func (d *Deps) destinationOf(num numbering.Number) (*schema.Destination, string) {
	dest := &schema.Destination{Region: num.Region, NumberType: string(num.Type)}
	text := ""
	if len(num.TimeZones) > 0 && (num.TiedToPlace() || len(num.TimeZones) == 1) {
		if loc, err := callhours.LoadZone(num.TimeZones[0]); err == nil {
			local := d.now().In(loc)
			dest.TimeZone = loc.String()
			dest.LocalTime = local.Format(time.RFC3339)
			where := callhours.Place(loc)
			if num.Region != "" && num.Region != numbering.NonGeographicRegion {
				where += ", " + numbering.RegionName(num.Region)
			}
			text = fmt.Sprintf(" It is %s there (%s).", callhours.Clock(local), where)
		}
	}
	if dest.Region == "" && dest.TimeZone == "" && dest.NumberType == "" {
		return nil, ""
	}
	return dest, text
}
