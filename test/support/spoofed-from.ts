/**
 * The header-From spoofing probes of the security review (issue 10), written out as the
 * review gave them: with a grant of `*@a.test`, a lenient parser read each as
 * `alice@a.test` (so each got `250 queued`) while a mail reader shows ceo@bank.test.
 * Literal here, not taken from the selftest's list, so the tests check src/ from outside.
 */
export const SPOOFED_FROM_VALUES: readonly string[] = [
  'ceo@bank.test <alice@a.test',
  '<alice@a.test> ceo@bank.test',
  'ceo@bank.test <@x:alice@a.test>',
  'ceo@bank.test@a.test',
  '=?utf-8?b?Y2VvQGJhbmsudGVzdAA=?=@a.test',
  'ceo@[10.0.0.1]@a.test',
];
