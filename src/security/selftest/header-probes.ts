import {
  authenticated,
  type CheckResult,
  type Endpoint,
  FOREIGN_RECIPIENT,
  message,
  type ProbeCredential,
  refused,
  summary,
} from './checks.js';
import type { SmtpDialogue } from './smtp-dialogue.js';

/**
 * `From:` values that a lenient parser reads as an address of `domain` while a mail
 * reader may show `ceo@bank.invalid` (issue 10's security review): unclosed `<`, text
 * after `>`, a source route, two `@`, an encoded word in the local part, an IP literal.
 * A correct relay refuses each like an ungranted sender (CONTRACT §SMTP submission).
 */
export function spoofedFromValues(domain: string): Array<[string, string]> {
  const granted = `alice@${domain}`;
  return [
    ['unclosed angle bracket', `ceo@bank.invalid <${granted}`],
    ['text after the address', `<${granted}> ceo@bank.invalid`],
    ['source route', `ceo@bank.invalid <@x.invalid:${granted}>`],
    ['two @', `ceo@bank.invalid@${domain}`],
    ['encoded word in the address', `=?utf-8?b?Y2VvQGJhbmsuaW52YWxpZAA=?=@${domain}`],
    ['IP literal and a second @', `ceo@[10.0.0.1]@${domain}`],
  ];
}

/** One transaction on `dialogue` with `from` as the From: header; the end-of-DATA reply. */
async function submit(dialogue: SmtpDialogue, credential: ProbeCredential, from: string) {
  const mail = await dialogue.command(`MAIL FROM:<${credential.sender}>`);
  if (refused(mail)) return mail;
  const rcpt = await dialogue.command(`RCPT TO:<${FOREIGN_RECIPIENT}>`);
  if (refused(rcpt)) return rcpt;
  const data = await dialogue.command('DATA');
  return data.code === 354 ? dialogue.send(`${message(from)}.\r\n`) : data;
}

/**
 * Each spoofed `From:` in its own transaction on one authenticated session: a PASS per
 * form the relay refused, a FAIL for each it queued.
 */
export async function checkHeaderSpoofing(
  endpoint: Endpoint,
  credential: ProbeCredential,
  label: string,
): Promise<CheckResult[]> {
  const probes = spoofedFromValues(credential.domain);
  const name = (form: string) => `${label}: spoofed From: (${form})`;
  let dialogue: SmtpDialogue | undefined;
  try {
    dialogue = await authenticated(endpoint, credential);
    const results: CheckResult[] = [];
    for (const [form, from] of probes) {
      const reply = await submit(dialogue, credential, from);
      const ok = refused(reply);
      results.push({
        name: name(form),
        ok,
        detail: ok ? `refused: ${summary(reply)}` : `OPEN: queued ${summary(reply)}`,
      });
      if (reply.code === 0) dialogue = await authenticated(endpoint, credential);
    }
    return results;
  } catch (error) {
    const detail = `could not run: ${(error as Error).message}`;
    return probes.map(([form]) => ({ name: name(form), ok: false, detail }));
  } finally {
    await dialogue?.close();
  }
}
