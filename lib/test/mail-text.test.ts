import { quotedForMail } from '../mail-text';

/** A name someone chose, as the company's plain-text mail shows it: quoted, shown as stored, never a link. */
it.each([
  ['Newcomer Popug', '"Newcomer Popug"'],
  ['Dr. Who', '"Dr. Who"'],
  ['Popug: the Great', '"Popug: the Great"'],
  ['Say "hi" \\ bye', '"Say \\"hi\\" \\\\ bye"'],
  ['Reset at https://evil.example/reset', '"Reset at https[:]//evil[.]example/reset"'],
  ['www.evil.example', '"www[.]evil[.]example"'],
  ['pay.example.co', '"pay[.]example[.]co"'],
  ['admin@popug.test', '"admin[@]popug[.]test"'],
  ['javascript:alert(1)', '"javascript[:]alert(1)"'],
  ['Bob\u202Egnp.exe', '"Bob\\u202Egnp[.]exe"'],
  ['line\u2028break', '"line\\u2028break"'],
  ['tab\there', '"tab\\u0009here"'],
  ['Zoë 👩‍💻', '"Zoë 👩‍💻"'],
])('%j is shown as %s', (name, shown) => {
  expect(quotedForMail(name)).toBe(shown);
});
