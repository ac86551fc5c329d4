export const USAGE = `Postwarden — a secure transactional mail relay

Usage:
  postwarden start [--role all|intake|worker]
  postwarden credentials create NAME --allow-from PATTERN [--allow-from PATTERN ...]
                                [--allow-to PATTERN ...] [--rate N/min] [--max-recipients N]
                                [--hold-above N/h]
  postwarden credentials list | revoke NAME | rotate NAME
  postwarden queue stats | show ID | retry ID | retry --all-failed [--dry-run] | reindex
  postwarden queue purge [--credential NAME] [--status held|queued|deferred ...] [--dry-run]
  postwarden hold NAME [--reason TEXT]     (keep its mail, deliver none)
  postwarden release NAME                  (clear the hold, deliver what it holds)
  postwarden pause [--reason TEXT] | resume  (stop / restart all delivery)
  postwarden audit [--limit N]
  postwarden bans list | unban IP
  postwarden admin set-password            (new password on standard input)
  postwarden selftest [--smtp HOST:PORT] [--http URL]
  postwarden forms create NAME --to ADDRESS [--to ...] --origin ORIGIN [--origin ...]
                           [--from ADDRESS] [--subject TEXT] [--redirect URL]
                           [--rate N/min] [--pow]
  postwarden forms list | remove NAME
  postwarden forms spam [list | release ID]
  postwarden suppressions list [--credential NAME] | add ADDRESS [--credential NAME]
                           | remove ADDRESS [--credential NAME]
  postwarden webhooks add URL [--credential NAME] [--events TYPE,...]
  postwarden webhooks list | remove ID | rotate ID

Every command accepts --json. Patterns: user@example.com, *@example.com, *@*.example.com.
Configuration comes from the environment (REDIS_URL, POSTWARDEN_*); see the README.
Exit codes: 0 ok, 1 failure, 2 usage error.`;
