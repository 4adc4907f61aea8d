/** `scheme://user:password@host` with the password replaced by `***` (Redis, MongoDB, HTTP URLs in any text). */
export function redactUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):[^@/\s]*@/gi, '$1$2:***@');
}
