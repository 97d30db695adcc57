import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectLanguage } from '../../src/extract/text-stats.ts';

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
