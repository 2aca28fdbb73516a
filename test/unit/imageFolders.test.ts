/**
 * The dataset pick's image folders (src/extension/imageFolders.ts): `root/<class>/<image>` folders found from the
 * workspace's image files, the layout the image-folder loader reads (docs/datasets.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageFolders } from '../../src/extension/imageFolders';

describe('imageFolders', () => {
  it('offers a folder whose class sub-folders hold images, with its classes and image count', () => {
    const files = ['/ws/data/fashion/bag/1.png', '/ws/data/fashion/bag/2.png', '/ws/data/fashion/coat/1.jpg', '/ws/data/fashion/boot/9.jpeg'];
    assert.deepEqual(imageFolders(files), [{ root: '/ws/data/fashion', classes: ['bag', 'boot', 'coat'], images: 4 }]);
  });

  it('skips a lone folder of images (screenshots are not a labelled dataset) and hidden folders', () => {
    assert.deepEqual(imageFolders(['/ws/docs/screenshot-dark.png', '/ws/docs/screenshot-light.png']), []);
    assert.deepEqual(imageFolders(['/ws/d/.thumbs/a.png', '/ws/d/cat/a.png']), []);
  });

  it('finds nested datasets separately, sorted by path', () => {
    const files = ['/ws/b/x/1.png', '/ws/b/y/1.png', '/ws/a/train/cat/1.png', '/ws/a/train/dog/1.png', '/ws/a/test/cat/1.png', '/ws/a/test/dog/2.png'];
    assert.deepEqual(
      imageFolders(files).map((d) => [d.root, d.classes.join(','), d.images]),
      [
        ['/ws/a/test', 'cat,dog', 2],
        ['/ws/a/train', 'cat,dog', 2],
        ['/ws/b', 'x,y', 2],
      ],
    );
  });
});
