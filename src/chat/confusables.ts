/**
 * Letters of other scripts that look like Latin letters, mapped to the Latin letter: the data behind
 * nameSkeleton(). Written by hand for wskit from the Unicode code charts of the Cyrillic, Greek,
 * Armenian and IPA blocks, choosing the pairs that are indistinguishable (or nearly) in common fonts;
 * a small subset, in the spirit of the `confusables.txt` data of Unicode Technical Standard #39
 * (Unicode Security Mechanisms), not a copy of it. Compatibility forms (fullwidth, mathematical,
 * ligatures, superscripts) need no entry: NFKD already maps them to their plain letter.
 *
 * Each entry is a pair of characters: the look-alike, then the Latin letter it stands for.
 */
const PAIRS =
  // Cyrillic capitals, then small letters
  'АAВBЕEКKМMНHОOРPСCТTУYХXЅSІIЈJҮYԚQԜWӀl' +
  'аaеeоoрpсcуyхxѕsіiјjԁdһhӏlԛqԝwүyьb' +
  // Greek capitals, then small letters
  'ΑAΒBΕEΖZΗHΙIΚKΜMΝNΟOΡPΤTΥYΧXϹCϳj' +
  'αaοoρpιiκkνvυuχxγyϲcϳj' +
  // Armenian
  'ՕOօoսuոnհhզqցg' +
  // Latin letters of IPA and other forms that look like the basic ones
  'ıiȷjɑaɡgɩiʏyꞮI';

function table(pairs: string): ReadonlyMap<string, string> {
  const chars = [...pairs];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < chars.length; i += 2) map.set(chars[i], chars[i + 1]);
  return map;
}

export const LATIN_LOOKALIKES: ReadonlyMap<string, string> = table(PAIRS);
