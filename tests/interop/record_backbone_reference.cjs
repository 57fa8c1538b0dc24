// Records what TensorFlow.js itself computes with nsfwjs's MobileNetV2 on real
// images, for the check that colorgan's converted copy computes the same
// (`colorgan-model import-tfjs --check`, tests/data/mobilenet_v2-reference.json).
// Run once by hand; needs @tensorflow/tfjs-core, -layers, -backend-cpu 4.22.0 and
// pngjs 7.0.0 on NODE_PATH (npm install in a scratch folder):
//   node record_backbone_reference.cjs MODEL_DIR OUT.json IMAGE.png...
// Inputs as nsfwjs feeds them: 224x224 RGB / 255.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const layers = require('@tensorflow/tfjs-layers');
const { PNG } = require('pngjs');

// Block outputs colorgan taps (MobileNetV2Impl::features numbering) and Keras' names for them.
const TAPS = { 0: 'expanded_conv_project_BN', 2: 'block_2_add', 5: 'block_5_add', 12: 'block_12_add',
               16: 'block_16_project_BN', 17: 'out_relu' };

async function main() {
  const [modelDir, out, ...images] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json')));
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const model = await layers.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
  const taps = Object.keys(TAPS);
  const probe = layers.model({ inputs: model.inputs,
                               outputs: [...taps.map((t) => model.getLayer(TAPS[t]).output), model.outputs[0]] });
  const records = [];
  for (const image of images) {
    const png = PNG.sync.read(fs.readFileSync(image));
    if (png.width !== 224 || png.height !== 224) throw new Error(`${image} is not 224x224`);
    const rgb = new Float32Array(224 * 224 * 3);
    for (let i = 0; i < 224 * 224; ++i) for (let c = 0; c < 3; ++c) rgb[3 * i + c] = png.data[4 * i + c] / 255;
    const results = probe.predict(tf.tensor4d(rgb, [1, 224, 224, 3]));
    const record = { image: path.basename(image), probabilities: Array.from(results[taps.length].dataSync()), taps: {} };
    taps.forEach((t, i) => {
      const [, h, w, c] = results[i].shape;
      const at = (y, x) => Array.from(tf.slice(results[i], [0, y, x, 0], [1, 1, 1, c]).dataSync());
      record.taps[t] = { keras_layer: TAPS[t], height: h, width: w,
                         channel_means: Array.from(tf.mean(results[i], [0, 1, 2]).dataSync()),
                         top_left: at(0, 0), bottom_right: at(h - 1, w - 1) };
    });
    records.push(record);
  }
  const reference = { recorded_with: 'TensorFlow.js 4.22.0 (tfjs-core, tfjs-layers, tfjs-backend-cpu) under node',
                      model: 'nsfwjs 4.2.1 dist/models/mobilenet_v2', input: '224x224 RGB / 255', records };
  // float32 holds 7 significant digits; more only lengthen the file.
  const json7 = JSON.stringify(reference, (key, value) => (typeof value === 'number' ? Number(value.toPrecision(7)) : value), 1);
  fs.writeFileSync(out, json7 + '\n');
  console.log(`wrote ${out}: ${records.length} image(s)`);
}
main().catch((e) => { console.error(e); process.exit(1); });
