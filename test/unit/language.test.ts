import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { franc } from 'franc';
import { detectLanguage, LANGUAGE_MIN_CHARS, LIKELY_LANGUAGES } from '../../src/extract/text-stats.ts';
import { TrigramLanguageDetector } from '../../src/extract/trigram-language.ts';
import { seeded } from '../support/docx-fixtures.ts';

const SAMPLES: Record<string, string> = {
  nld: 'Het college van burgemeester en wethouders heeft besloten de opdracht voor de levering van de software te gunnen aan de inschrijver met de beste prijs-kwaliteitverhouding. De bezwaartermijn is zes weken en wordt gerekend vanaf de dag na verzending van dit besluit.',
  eng: 'The board has decided to award the contract for the delivery of the software to the supplier with the best price-quality ratio. This decision will be published on the website and the objection period is six weeks from the date of this letter.',
  deu: 'Der Vorstand hat beschlossen, den Auftrag für die Lieferung der Software an den Bieter mit dem besten Preis-Leistungs-Verhältnis zu vergeben. Die Einspruchsfrist beträgt sechs Wochen und wird ab dem Tag nach dem Versand berechnet.',
  fra: "Le conseil a décidé d'attribuer le marché pour la livraison du logiciel au soumissionnaire qui présente le meilleur rapport qualité-prix. Le délai de recours est de six semaines et il court à partir du jour qui suit l'envoi de la décision.",
  spa: 'La junta ha decidido adjudicar el contrato para la entrega del software al licitador con la mejor relación calidad-precio. El plazo de recurso es de seis semanas y se cuenta desde el día siguiente al envío de la decisión por correo.',
};

describe('detectLanguage', () => {
  for (const [lang, text] of Object.entries(SAMPLES)) {
    it(`tells ${lang} from running text`, () => assert.equal(detectLanguage(text), lang));
  }
  it('says "und" for text too short to tell', () => assert.equal(detectLanguage('Q3'), 'und'));
  it('still answers for scripts without function words in the list (franc)', () => {
    assert.equal(detectLanguage('Совет директоров принял решение заключить договор на поставку программного обеспечения с участником, предложившим лучшее соотношение цены и качества.'), 'rus');
  });
});

/** Words of many scripts and languages, mixed at random so franc's close calls come up too. */
const MIXED_WORDS = [
  ...Object.values(SAMPLES).join(' ').split(' '),
  ...'Совет директоров принял решение Рада директорів ухвалила рішення Το διοικητικό συμβούλιο αποφάσισε'.split(' '),
  ...'مجلس الإدارة قرر הדירקטוריון החליט निदेशक मंडल ने निर्णय लिया 董事会决定 取締役会は決定した 이사회는 결정했다 คณะกรรมการตัดสินใจ'.split(' '),
  ...'Zarząd postanowił Představenstvo rozhodlo Az igazgatóság úgy döntött Styrelsen har beslutat Hallitus päätti'.split(' '),
  '123', '4.5%', '—', '😀', 'e-mail', "l'envoi", 'Q3', '',
];

describe('franc fallback', () => {
  it('answers what franc answers over the same languages, on generated samples', () => {
    const detector = new TrigramLanguageDetector(LIKELY_LANGUAGES, LANGUAGE_MIN_CHARS);
    const rnd = seeded(3);
    const samples = [...Object.values(SAMPLES), '', 'Q3', '1234567890 1234567890 12345', '漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字'];
    for (let i = 0; i < 600; i++) {
      // Mostly one language, sometimes a mix, at lengths around franc's minimum and the 500-character sample.
      const words = Array.from({ length: 1 + Math.floor(rnd() * 90) }, () => MIXED_WORDS[Math.floor(rnd() * MIXED_WORDS.length)] ?? '');
      samples.push(words.join(rnd() < 0.9 ? ' ' : '\n').slice(0, 500));
    }
    for (const s of samples) {
      assert.equal(detector.detect(s), franc(s, { minLength: LANGUAGE_MIN_CHARS, only: LIKELY_LANGUAGES }), JSON.stringify(s));
    }
  });
});

/** detectLanguage as it was before the table-driven function-word count and the trigram tables, kept as the reference. */
const REFERENCE_FUNCTION_WORDS: Record<string, string> = {
  eng: 'the and of to is in that for with this are be on it as was by not or have from which will',
  nld: 'de het een en van is dat die niet op te zijn voor met ook als bij aan er wordt naar worden deze wij',
  deu: 'der die und das ist nicht ein eine zu den mit sich auf für von dem des auch wird werden wir',
  fra: 'le la les des et est une un du en que qui dans pour pas sur au par sont avec nous',
  spa: 'el la los las de que y en un una es por con para se del al lo como más',
  ita: 'il di che la per un una non sono della del con gli le nel alla anche è',
  por: 'o a os as de que e do da em um uma para com não dos das se por no na',
};

function referenceDetect(text: string): string {
  const wordLangs = new Map<string, string[]>();
  for (const [lang, words] of Object.entries(REFERENCE_FUNCTION_WORDS)) for (const w of words.split(' ')) wordLangs.set(w, [...(wordLangs.get(w) ?? []), lang]);
  const sample = text.slice(0, 3000).toLowerCase();
  const scores = new Map<string, number>();
  let hits = 0;
  for (const m of sample.matchAll(/[a-zà-ÿ]+/g)) {
    const langs = wordLangs.get(m[0]);
    if (!langs) continue;
    hits++;
    for (const l of langs) scores.set(l, (scores.get(l) ?? 0) + 1 / langs.length);
  }
  if (hits >= 8) {
    const [first, second] = [...scores.entries()].sort((a, b) => b[1] - a[1]);
    if (first && first[1] >= 2 * (second?.[1] ?? 0)) return first[0];
  }
  return franc(text.slice(0, 500), { minLength: LANGUAGE_MIN_CHARS, only: LIKELY_LANGUAGES });
}

describe('detectLanguage against the previous implementation', () => {
  it('gives the same answer on generated text of mixed languages and lengths', () => {
    const rnd = seeded(5);
    const functionWords = Object.values(REFERENCE_FUNCTION_WORDS).join(' ').split(' ');
    for (let i = 0; i < 1500; i++) {
      const words = Array.from({ length: 1 + Math.floor(rnd() * 700) }, () =>
        rnd() < 0.4 ? (functionWords[Math.floor(rnd() * functionWords.length)] ?? '') : (MIXED_WORDS[Math.floor(rnd() * MIXED_WORDS.length)] ?? ''),
      );
      const text = words.join(rnd() < 0.8 ? ' ' : '. ');
      assert.equal(detectLanguage(text), referenceDetect(text), text.slice(0, 200));
    }
  });
});
