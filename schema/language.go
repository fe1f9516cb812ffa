package schema

import (
	"strings"

	"golang.org/x/text/language"
)

// LanguageAuto asks the API to follow the language of the person called.
const LanguageAuto = "auto"

// IsLanguage reports whether v is a well-formed, known BCP 47 tag (such as
// es-MX, fr or en-GB) or "auto". The tag is checked, never rewritten: the
// caller passes v on unchanged.
func IsLanguage(v string) bool {
	if v == LanguageAuto {
		return true
	}
	// x/text also reads "es_MX"; BCP 47 (and the API) separate with "-".
	if v == "" || len(v) > MaxLanguageLen || strings.ContainsAny(v, "_ ") {
		return false
	}
	_, err := language.Parse(v)
	return err == nil
}
