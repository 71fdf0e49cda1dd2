"""Scene model of the synthetic street world: a moving pinhole camera and a
list of planar textured layers.

World frame: X right, Y down, Z forward along the street; the ground is the
plane ``Y = 0`` and the camera rides ``cam_height`` metres above it. Every
layer is a textured plane patch

    P(u, v, t) = O(t) + u * axis_u + v * axis_v        (u, v texel coords)

with ``O(t) = origin + velocity * t`` (plus the camera centre for layers
that travel with the camera, i.e. the sky). The camera at frame ``t`` has
intrinsics ``K(t)`` (focal length varies for zoom), yaw rotation ``R(t)``
and centre ``C(t)``, so the layer maps texels to pixels by the homography

    H(t) = K(t) R(t) [axis_u | axis_v | O(t) - C(t)]

whose third output coordinate is the point's depth. Because each layer is a
rigid plane, flow and occlusion follow analytically from the homographies
(see :mod:`.render`).

The street: a road (1 or 2 lanes per direction), sidewalks, building facades
on both sides, a row of buildings closing the street far away, sky, street
trees, parked / driving / oncoming / crossing cars, pedestrians walking
along the sidewalks or crossing, and cyclists (rider + bicycle).
"""
from dataclasses import dataclass, field

import cv2
import numpy as np

from .textures import (make_car, make_cyclist, make_facade, make_ground,
                       make_pedestrian, make_sky, make_tree)

#: nearest depth (metres) at which anything is drawn
NEAR = 1.0


@dataclass
class Camera:
    """Pinhole camera moving along the street.

    ``speed`` is metres per frame along Z, ``zoom`` the relative focal length
    change per frame, ``sway_*`` a lateral sinusoid, ``yaw_*`` a yaw
    sinusoid plus a constant yaw rate (radians per frame).
    """
    width: int
    height: int
    f0: float
    cx: float
    cy: float
    cam_height: float = 1.5
    lane_x: float = 0.0
    speed: float = 0.5
    zoom: float = 0.0
    sway_amp: float = 0.0
    sway_period: float = 40.0
    sway_phase: float = 0.0
    yaw_amp: float = 0.0
    yaw_period: float = 40.0
    yaw_phase: float = 0.0
    yaw_rate: float = 0.0

    def focal(self, t):
        return self.f0 * (1.0 + self.zoom * t)

    def K(self, t):
        f = self.focal(t)
        return np.array([[f, 0, self.cx], [0, f, self.cy], [0, 0, 1.0]])

    def yaw(self, t):
        return self.yaw_rate * t + self.yaw_amp * np.sin(
            2 * np.pi * t / self.yaw_period + self.yaw_phase)

    def R(self, t):
        """World-to-camera rotation (yaw about the Y axis)."""
        a = self.yaw(t)
        c, s = np.cos(a), np.sin(a)
        return np.array([[c, 0, -s], [0, 1.0, 0], [s, 0, c]])

    def C(self, t):
        """Camera centre in world coordinates."""
        x = self.lane_x + self.sway_amp * np.sin(
            2 * np.pi * t / self.sway_period + self.sway_phase)
        return np.array([x, -self.cam_height, self.speed * t])


@dataclass
class Layer:
    """A textured planar patch (see the module docstring).

    ``texture`` is ``(h, w, 3)`` uint8 BGR, ``labels`` ``(h, w)`` uint8 train
    ids with :data:`~.classes.TRANSPARENT` where the layer is absent.
    ``billboard`` layers are small: they are rendered only inside the
    bounding box of their projected corners and only while all corners are
    in front of the near plane. ``background`` layers (the sky) are
    farther than everything else and are drawn last, only where nothing
    else is. ``uniform_lod`` layers (frontal planes) are texture-filtered with
    one level of detail per frame, the others per pixel.
    """
    name: str
    texture: np.ndarray
    labels: np.ndarray
    origin: np.ndarray
    axis_u: np.ndarray
    axis_v: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))
    follow_camera: bool = False
    billboard: bool = True
    background: bool = False
    uniform_lod: bool = True
    _mips: list = field(default=None, repr=False, compare=False)

    def mip_levels(self):
        """Texture pyramid (level k texel i sits at level-0 coordinate
        ``2**k * i``, as :func:`cv2.pyrDown` makes it), built once."""
        if self._mips is None:
            mips = [self.texture]
            while min(mips[-1].shape[:2]) >= 8 and len(mips) < 7:
                mips.append(cv2.pyrDown(mips[-1]))
            self._mips = mips
        return self._mips

    def origin_at(self, t, cam):
        o = np.asarray(self.origin, np.float64) + np.asarray(
            self.velocity, np.float64) * t
        if self.follow_camera:
            o = o + cam.C(t)
        return o

    def homography(self, t, cam):
        """Texel -> pixel homography at frame ``t``; the third homogeneous
        coordinate of the image of a texel is its depth."""
        rel = self.origin_at(t, cam) - cam.C(t)
        M = np.stack([self.axis_u, self.axis_v, rel], axis=1)
        return cam.K(t) @ cam.R(t) @ M

    def corners(self):
        """Texel coordinates of the patch's four corners in polygon order,
        ``(4, 3)`` homogeneous."""
        h, w = self.labels.shape
        return np.array([[0, 0, 1], [w - 1, 0, 1], [w - 1, h - 1, 1],
                         [0, h - 1, 1]], np.float64)


def _to_bgr_u8(rgb):
    return np.ascontiguousarray(
        np.clip(rgb + 0.5, 0, 255).astype(np.uint8)[..., ::-1])


def _billboard(name, rgb, labels, res, x_center, z, velocity=(0, 0, 0)):
    """Upright patch facing the camera, standing on the ground at
    ``(x_center, 0, z)``."""
    h, w = labels.shape
    return Layer(name=name, texture=_to_bgr_u8(rgb), labels=labels,
                 origin=np.array([x_center - (w - 1) * res / 2,
                                  -(h - 1) * res, z]),
                 axis_u=np.array([res, 0, 0.0]),
                 axis_v=np.array([0, res, 0.0]),
                 velocity=np.asarray(velocity, np.float64))


def _trajectory_ok(layer, cam, frames, min_depth):
    """True if, at every frame, the layer is either at least ``min_depth``
    in front of the camera, entirely behind it, or entirely outside the
    image on one side (so the camera never drives *through* a visible
    object and projected flow stays well defined)."""
    cs = layer.corners()
    for t in frames:
        P = (layer.homography(t, cam) @ cs.T)
        d = P[2]
        if d.min() >= min_depth or d.max() <= 0:
            continue
        if d.min() <= 0.1:
            return False
        x = P[0] / d
        if not (np.all(x < -2) or np.all(x > cam.width + 2)):
            return False
    return True


def sample_scene(rng, height, width, num_frames, camera=None, objects=True):
    """Draw one street scene.

    Args:
        rng (np.random.Generator): the only source of randomness.
        height, width (int): image size.
        num_frames (int): frames the snippet will show (``0..N-1``; the
            scene is also valid at the virtual frames ``-1`` and ``N``).
        camera (dict, optional): overrides of :class:`Camera` fields (e.g.
            ``dict(speed=1.0, yaw_amp=0, zoom=0)``), applied after sampling.
        objects (bool): add trees, cars, pedestrians and cyclists.

    Returns:
        tuple: ``(Camera, list[Layer])``.
    """
    detail = width / 512.0  # texel sizes scale with the image resolution
    frames = np.arange(-1, num_frames + 1)
    cam = Camera(width=width, height=height,
                 f0=width * rng.uniform(0.5, 0.62), cx=width / 2.0,
                 cy=height * rng.uniform(0.4, 0.47))
    road_half = rng.uniform(3.5, 7.5)
    lanes = 1 if road_half < 5.5 else 2
    lane_w = road_half / lanes
    sw_l, sw_r = rng.uniform(2.5, 5.0, 2)
    xl, xr = road_half + sw_l, road_half + sw_r
    cam.lane_x = lane_w * (int(rng.integers(lanes)) + 0.5)
    cam.cam_height = rng.uniform(1.3, 1.7)
    stationary = rng.random() < 0.1
    cam.speed = 0.0 if stationary else rng.uniform(0.2, 1.0)
    if rng.random() < 0.5:
        cam.zoom = rng.uniform(-0.004, 0.006)
    cam.sway_amp = rng.uniform(0, 0.6)
    cam.sway_period = rng.uniform(20, 60)
    cam.sway_phase = rng.uniform(0, 2 * np.pi)
    cam.yaw_amp = rng.uniform(0, 0.04)
    cam.yaw_period = rng.uniform(20, 60)
    cam.yaw_phase = rng.uniform(0, 2 * np.pi)
    cam.yaw_rate = rng.uniform(-0.002, 0.002)
    for k, v in (camera or {}).items():
        if not hasattr(cam, k):
            raise KeyError(f'unknown camera field {k!r}')
        setattr(cam, k, v)

    zc = np.array([cam.C(t)[2] for t in frames])
    z_min, z_max = zc.min(), zc.max()
    far_z = z_max + rng.uniform(45, 90)
    f_min = min(cam.focal(t) for t in frames)
    yaw_max = max(abs(cam.yaw(t)) for t in frames)
    layers = []

    # sky: a plane 1000 m ahead that travels with the camera
    sky_d = 1000.0
    sx = width / 2 / f_min + yaw_max + 0.3
    sy0 = cam.cy / f_min + 0.3
    sy1 = (height - cam.cy) / f_min + 0.3
    sres = sky_d / cam.f0 * 1.5
    sw, sh = int(2 * sx * sky_d / sres) + 2, int((sy0 + sy1) * sky_d /
                                                 sres) + 2
    rgb, lab = make_sky(rng, sh, sw)
    layers.append(Layer('sky', _to_bgr_u8(rgb), lab,
                        origin=np.array([-sx * sky_d, -sy0 * sky_d, sky_d]),
                        axis_u=np.array([sres, 0, 0.0]),
                        axis_v=np.array([0, sres, 0.0]),
                        follow_camera=True, billboard=False,
                        background=True))

    # ground
    gres = 0.06 / detail
    gx0 = -(max(xl, xr) + 12.0)
    gz0 = z_min + 0.3
    gw = int((-2 * gx0) / gres) + 2
    gh = int((far_z + 1.0 - gz0) / gres) + 2
    crosswalks = [z for z in rng.uniform(z_min + 5, far_z - 10, 2)
                  if rng.random() < 0.4]
    rgb, lab = make_ground(rng, gx0, gz0, gres, gh, gw, road_half, lane_w,
                           crosswalks)
    layers.append(Layer('ground', _to_bgr_u8(rgb), lab,
                        origin=np.array([gx0, 0.0, gz0]),
                        axis_u=np.array([gres, 0, 0.0]),
                        axis_v=np.array([0, 0, gres]), billboard=False,
                        uniform_lod=False))

    # facades on both sides and at the far end of the street
    hmax = 28.0
    fres = 0.08 / detail
    fz0 = z_min + 0.3
    for name, x in (('facade_left', -xl), ('facade_right', xr)):
        rgb, lab = make_facade(rng, far_z - fz0, hmax, fres)
        layers.append(Layer(name, _to_bgr_u8(rgb), lab,
                            origin=np.array([x, -hmax, fz0]),
                            axis_u=np.array([0, 0, fres]),
                            axis_v=np.array([0, fres, 0.0]),
                            billboard=False, uniform_lod=False))
    half = (far_z - z_min) * (width / 2 / f_min + yaw_max) * 1.2 + 10
    bres = 0.15 / detail
    rgb, lab = make_facade(rng, 2 * half, hmax, bres, gap_prob=0.2)
    layers.append(Layer('facade_far', _to_bgr_u8(rgb), lab,
                        origin=np.array([-half, -hmax, far_z]),
                        axis_u=np.array([bres, 0, 0.0]),
                        axis_v=np.array([0, bres, 0.0]), billboard=False))
    if not objects:
        return cam, layers

    ores = 0.025 / detail
    pres = 0.02 / detail

    def add(layer, min_depth=3.0):
        if _trajectory_ok(layer, cam, frames, min_depth):
            layers.append(layer)
            return True
        return False

    # street trees
    if rng.random() < 0.75:
        for side, xs, sw_ in ((-1, road_half, sw_l), (1, road_half, sw_r)):
            z = z_min + rng.uniform(-5, 10)
            step = rng.uniform(8, 18)
            while z < far_z - 5:
                if rng.random() < 0.8:
                    rgb, lab, _, _ = make_tree(rng, 0.04 / detail)
                    x = side * (xs + sw_ * rng.uniform(0.35, 0.65))
                    add(_billboard('tree', rgb, lab, 0.04 / detail, x,
                                   z + rng.uniform(-1, 1)))
                z += step
    # parked cars along both kerbs
    for _ in range(int(rng.integers(0, 5))):
        side = rng.choice([-1, 1])
        view = 'rear' if side > 0 else 'front'
        rgb, lab, _, _ = make_car(rng, view, ores)
        add(_billboard('car_parked', rgb, lab, ores,
                       side * (road_half - 1.1),
                       z_min + rng.uniform(5, 70)))
    # cars driving in the camera's direction
    for _ in range(int(rng.integers(1, 4))):
        lane = int(rng.integers(lanes))
        x = lane_w * (lane + 0.5)
        same_lane = abs(x - cam.lane_x) < lane_w / 2
        rgb, lab, _, _ = make_car(rng, 'rear', ores)
        v = max(0.0, cam.speed + rng.uniform(-0.4, 0.4))
        add(_billboard('car', rgb, lab, ores, x + rng.uniform(-0.3, 0.3),
                       z_min + rng.uniform(8, 60), (0, 0, v)),
            7.0 if same_lane else 3.0)
    # oncoming cars
    for _ in range(int(rng.integers(0, 4))):
        lane = int(rng.integers(lanes))
        rgb, lab, _, _ = make_car(rng, 'front', ores)
        add(_billboard('car_oncoming', rgb, lab, ores,
                       -lane_w * (lane + 0.5) + rng.uniform(-0.3, 0.3),
                       z_min + rng.uniform(15, 100),
                       (0, 0, -rng.uniform(0.3, 1.0))))

    def crossing(depth_lo, depth_hi, speed_lo, speed_hi):
        """A start x, depth and x-velocity for something crossing the
        view; it may start outside the frame and enter, or leave."""
        z = z_min + rng.uniform(depth_lo, depth_hi)
        vis = (z - z_min) * width / 2 / cam.f0
        d = rng.choice([-1, 1])
        x = -d * rng.uniform(-0.3, 1.2) * vis
        return x, z, d * rng.uniform(speed_lo, speed_hi)

    if rng.random() < 0.5:  # crossing car
        rgb, lab, _, _ = make_car(rng, 'side', ores)
        x, z, vx = crossing(12, 40, 0.3, 0.8)
        add(_billboard('car_crossing', rgb, lab, ores, x, z, (vx, 0, 0)))
    # pedestrians on the sidewalks
    for _ in range(int(rng.integers(2, 9))):
        side = rng.choice([-1, 1])
        sw_ = sw_l if side < 0 else sw_r
        rgb, lab, _, _ = make_pedestrian(rng, pres)
        add(_billboard('person', rgb, lab, pres,
                       side * (road_half + rng.uniform(0.5, sw_ - 0.4)),
                       z_min + rng.uniform(4, 70),
                       (0, 0, rng.choice([-1, 1]) * rng.uniform(0.03, 0.1))))
    for _ in range(int(rng.integers(0, 3))):  # crossing pedestrians
        rgb, lab, _, _ = make_pedestrian(rng, pres)
        x, z, vx = crossing(8, 40, 0.04, 0.1)
        add(_billboard('person_crossing', rgb, lab, pres, x, z, (vx, 0, 0)))
    # cyclists: along the right kerb, or crossing
    for _ in range(int(rng.integers(0, 3))):
        if rng.random() < 0.6:
            rgb, lab, _, _ = make_cyclist(rng, 'rear', pres)
            add(_billboard('cyclist', rgb, lab, pres, road_half - 0.9,
                           z_min + rng.uniform(8, 50),
                           (0, 0, rng.uniform(0.15, 0.45))))
        else:
            rgb, lab, _, _ = make_cyclist(rng, 'side', pres)
            x, z, vx = crossing(10, 40, 0.2, 0.45)
            add(_billboard('cyclist_crossing', rgb, lab, pres, x, z,
                           (vx, 0, 0)))
    return cam, layers
