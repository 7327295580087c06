package templates

import (
	"fmt"
	"time"
)

// dateWords are each language's month names and how it writes a date, and a date with its
// time: the time package writes English only.
var dateWords = map[string]struct {
	months [12]string
	// date and dateTime are fmt formats of (day, month name, year) and (day, month name,
	// year, hh:mm, zone).
	date, dateTime string
}{
	"en": {[12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		"%s %s %d", "%s %s %d at %s (%s)"},
	"fr": {[12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		"%s %s %d", "%s %s %d à %s (%s)"},
	"de": {[12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		"%s. %s %d", "%s. %s %d um %s Uhr (%s)"},
	"es": {[12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		"%s de %s de %d", "%s de %s de %d a las %s (%s)"},
	"it": {[12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		"%s %s %d", "%s %s %d alle %s (%s)"},
	"nl": {[12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		"%s %s %d", "%s %s %d om %s (%s)"},
}

// FormatDate writes t, in its own location, as lang writes a date; withTime adds the hour and
// the zone's abbreviation. An unknown language writes English.
func FormatDate(lang string, t time.Time, withTime bool) string {
	w, ok := dateWords[lang]
	if !ok {
		w = dateWords["en"]
	}
	month, day := w.months[t.Month()-1], fmt.Sprint(t.Day())
	if lang == "fr" && t.Day() == 1 {
		day = "1er" // French writes the first of the month as an ordinal
	}
	if withTime {
		return fmt.Sprintf(w.dateTime, day, month, t.Year(), t.Format("15:04"), t.Format("MST"))
	}
	return fmt.Sprintf(w.date, day, month, t.Year())
}
