// A webpack loader for the rolling-upgrade fault test (test/support/production-upgrade.ts): hands webpack the canary
// workflow's source with each anchor replaced, before TypeScript is compiled. An anchor that is gone fails the build
// with a message naming it, instead of producing a "new" build identical to the old one.
module.exports = function patchSource(source) {
  const { replacements, file } = this.getOptions();
  let out = source;
  for (const [anchor, replacement] of replacements) {
    if (!out.includes(anchor)) {
      throw new Error(
        `${file}: the anchor ${JSON.stringify(anchor.slice(0, 80))} is gone; update test/support/production-upgrade.ts to the workflow as it is now`,
      );
    }
    out = out.replace(anchor, replacement);
  }
  return out;
};
