/**
 * Fake credentials in the shapes real ones have. Built by concatenation so that
 * secret scanners do not flag this repository; none of them is a real key.
 */
const alnum = (n: number): string => 'Ab3dE5gH7jK9mN1pQ2rS4tU6vW8xY0z'.repeat(10).slice(0, n);

export const fakeSecrets = {
  openai: 'sk-' + alnum(48),
  openaiProject: 'sk-' + 'proj-' + alnum(40) + '_' + alnum(20),
  anthropic: 'sk-' + 'ant-api03-' + alnum(80) + '-' + alnum(10) + 'AA',
  aws: 'AKIA' + 'IOSFODNN7EXAMPLE',
  github: 'gh' + 'p_' + alnum(36),
  githubPat: 'github' + '_pat_' + alnum(22) + '_' + alnum(59),
  slack: 'xo' + 'xb-' + '1234567890-1234567890123-' + alnum(24),
  google: 'AI' + 'za' + alnum(35),
  stripe: 'sk' + '_live_' + alnum(24),
  jwt: 'eyJ' + 'hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.' + 'eyJ' + 'zdWIiOiIxMjM0NTY3ODkwIn0.' + alnum(43),
  bearer: alnum(32),
  pem: ['-----BEGIN ' + 'RSA PRIVATE KEY-----', alnum(64), alnum(64), '-----END ' + 'RSA PRIVATE KEY-----'].join('\n'),
};
