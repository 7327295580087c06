package httpapi

import (
	"html/template"
)

// unsubscribeTemplate lets a contact opt out from the Member who mailed it or from every
// Member of the brand (R-MAIL-5, R-CONSENT-7); answerpage.go serves it.
var unsubscribeTemplate = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Unsubscribe</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;margin:.2rem 0;cursor:pointer;background:#e5e7eb}</style>
</head><body>
{{if .Answered}}<h1>You are unsubscribed</h1><p>{{if eq .Answered "all_members"}}No member of this brand will write to you again.{{else}}This member will not write to you again.{{end}}</p>
{{else if .Problem}}<h1>This link cannot be used</h1><p>{{.Problem}}</p>
{{else}}<h1>Unsubscribe</h1><p>Do you want to stop receiving mail from the member who wrote to you, or from every member of this brand?</p>
<noscript><p>Scripts are off in this browser. Copy the code at the end of the link in your mail,
after <code>#token=</code>, into the field below, then choose.</p></noscript>
<form method="post" action="{{.Action}}"><p id="code"><label for="token">Code</label><br>
<input id="token" name="token" required autocomplete="off" autocapitalize="off" spellcheck="false" size="45"></p>
<button type="submit" name="answer" value="this_member">Opt out from this member</button>
<button type="submit" name="answer" value="all_members">Opt out from all members of this brand</button></form>
<script>` + confirmScript + `</script>
{{end}}</body></html>
`))

// programOptOutTemplate lets a member opt out of a suspended program, which is an
// unsubscription (R-ERASE-8); answerpage.go serves it.
var programOptOutTemplate = template.Must(template.New("program-opt-out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Opt out</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;margin:.2rem 0;cursor:pointer;background:#e5e7eb}</style>
</head><body>
{{if .Answered}}<h1>You opted out</h1><p>Your account is closed; its personal data will be erased.</p>
{{else if .Problem}}<h1>This link cannot be used</h1><p>{{.Problem}}</p>
{{else}}<h1>Opt out</h1><p>This program is suspended. Do you want to close your account now? Its personal data will then be erased.</p>
<noscript><p>Scripts are off in this browser. Copy the code at the end of the link in your mail,
after <code>#token=</code>, into the field below, then choose.</p></noscript>
<form method="post" action="{{.Action}}"><p id="code"><label for="token">Code</label><br>
<input id="token" name="token" required autocomplete="off" autocapitalize="off" spellcheck="false" size="45"></p>
<button type="submit" name="answer" value="opt_out">Opt out and close my account</button></form>
<script>` + confirmScript + `</script>
{{end}}</body></html>
`))
