import { Hono } from 'hono';
import { EDUCATION_LEVEL_SHORT, TRAINING_MODES, labelOf, isSignableTrainingMode } from '../../domain/codes/tables.ts';
import { maskIdNumber } from '../../domain/codes/id-number.ts';
import { getGraduate } from '../../domain/graduates/roster.ts';
import { forbidden } from '../../domain/errors.ts';
import type { AppEnv } from '../context.ts';
import { render } from '../render.ts';

export const studentRoutes = new Hono<AppEnv>();

studentRoutes.get('/', async (c) => {
  const actor = c.get('actor')!;
  if (actor.graduateId === null) throw forbidden();
  const g = await getGraduate(c.get('app').db, actor, actor.graduateId);
  return render(c, 'student/home', {
    title: '首页',
    graduate: {
      ...g,
      idNumber: maskIdNumber(g.idNumber),
      educationLevel: labelOf(EDUCATION_LEVEL_SHORT, g.educationLevel),
      trainingMode: labelOf(TRAINING_MODES, g.trainingMode),
      signable: isSignableTrainingMode(g.trainingMode),
    },
  });
});
