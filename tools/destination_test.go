package tools

import (
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/numbering"
)

// A number held to calling hours whose time zone is unknown is refused
// (fail closed); one not tied to a place is exempt even then.
func TestUnknownZoneFailsClosed(t *testing.T) {
	w, err := callhours.Parse("08:00-21:00", "mon-sun")
	if err != nil {
		t.Fatal(err)
	}
	d := &Deps{CallingHours: w, Clock: clock.NewManual(time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC))}
	for _, zones := range [][]string{nil, {"Etc/Unknown"}} {
		terr := d.checkHours(numbering.Number{E164: "+12345678901", Region: "US", Type: numbering.FixedLine, TimeZones: zones})
		if terr == nil || terr.Token != "outside_calling_hours" {
			t.Errorf("zones %v: %v, want outside_calling_hours", zones, terr)
		}
	}
	if terr := d.checkHours(numbering.Number{E164: "+80012345678", Region: numbering.NonGeographicRegion, Type: numbering.TollFree}); terr != nil {
		t.Errorf("a non-geographic number was held to hours: %v", terr)
	}
	d.CallingHours = callhours.Off
	if terr := d.checkHours(numbering.Number{E164: "+12345678901", Region: "US"}); terr != nil {
		t.Errorf("hours off still refused: %v", terr)
	}
}
