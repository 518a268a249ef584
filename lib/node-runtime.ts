/**
 * The Node.js major this product is built, tested and shipped on (package.json `engines`,
 * the Dockerfile's base image, the exact-pinned `node` devDependency that npm puts first on
 * every script's PATH). Anything else stops a start or a test run with one line that says
 * what to install, instead of failing later in a dependency that needs the newer runtime.
 */
export const SUPPORTED_NODE_MAJOR = 26;

export function nodeMajor(version: string = process.versions.node): number {
  return Number(version.split('.')[0]);
}

export function assertSupportedNode(version: string = process.versions.node): void {
  if (nodeMajor(version) !== SUPPORTED_NODE_MAJOR) {
    throw new Error(
      `Popug Jira runs on Node.js ${SUPPORTED_NODE_MAJOR} (this is ${version}): run it through npm (\`npm ci\` installs the pinned Node.js ${SUPPORTED_NODE_MAJOR} and \`npm start\` / \`npm test\` use it), or install Node.js ${SUPPORTED_NODE_MAJOR} LTS.`,
    );
  }
}
