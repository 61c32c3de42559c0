import { Body, Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { RateLimited } from '../common/rate-limit.js';
import { AuthService } from './auth.service.js';
import { LoginDto, LoginResponseDto } from './staff.dto.js';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  // The answer is a bearer credential: no cache on the way may keep it.
  @Header('Cache-Control', 'no-store')
  @RateLimited('login')
  @ApiOperation({
    summary: 'Sign in as a staff member',
    description:
      'Exchanges a staff email and password for an access token (a JWT) to send as `Authorization: Bearer …` on staff routes. ' +
      'Rate limited per client; repeated wrong passwords lock the account for a while. Every sign-in and failed password is audited.',
    security: [],
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (the same answer for both)' })
  login(@Body() body: LoginDto, @Req() req: FastifyRequest): Promise<LoginResponseDto> {
    return this.auth.login(body.email, body.password, req.ip);
  }
}
