// nsfwjs ships each TensorFlow.js model as JavaScript modules (model.min.js and
// one group1-shardNofM.min.js per weight file, the bytes base64-encoded) so that
// bundlers can inline them. This writes them back out as the files
// TensorFlow.js itself reads: model.json and the binary weight files.
// usage: node unwrap-tfjs-bundle.cjs SOURCE_DIR DEST_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [source, dest] = process.argv.slice(2);
if (!source || !dest) {
  console.error('usage: node unwrap-tfjs-bundle.cjs SOURCE_DIR DEST_DIR');
  process.exit(2);
}
const model = require(path.resolve(source, 'model.min.js'));
if (!model.modelTopology || !Array.isArray(model.weightsManifest)) {
  console.error(`${source}/model.min.js holds no TensorFlow.js layers model`);
  process.exit(1);
}
fs.mkdirSync(dest, { recursive: true });
for (const group of model.weightsManifest) {
  group.paths = group.paths.map((name) => {
    if (path.basename(name) !== name) throw new Error(`weight file ${name} is not beside model.min.js`);
    const base64 = require(path.resolve(source, `${name}.min.js`));
    if (typeof base64 !== 'string') throw new Error(`${name}.min.js holds no base64 string`);
    fs.writeFileSync(path.join(dest, `${name}.bin`), Buffer.from(base64, 'base64'));
    return `${name}.bin`;
  });
}
fs.writeFileSync(path.join(dest, 'model.json'), JSON.stringify(model));
console.log(`wrote ${dest}/model.json and ${model.weightsManifest.length} weight group(s)`);
