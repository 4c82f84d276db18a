"""User accounts, logins, login sessions and patients' questionnaire links (DESIGN.md section 5), one concern a
module: :mod:`.users` (logins and their passwords), :mod:`.login` (authentication and the login use case),
:mod:`.lockout` (failed logins lock an account), :mod:`.rate_limit` (attempts per source), :mod:`.login_sessions`
(server-side sessions behind cookies and bearer tokens), :mod:`.questionnaire_links` (single-use links for
patients), :mod:`.hashing` (how passwords and tokens are stored) and :mod:`.errors`."""
